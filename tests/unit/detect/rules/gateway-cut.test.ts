import { describe, expect, it } from 'vitest';
import { gatewayCut } from '../../../../src/detect/rules/gateway-cut.js';
import { context, many } from './fixture.js';

const domestic = many(3, 'dom', 'KZ', 'news', { okAgo: 1_000 });

describe('rule 2: the gateway cut', () => {
  it('international mostly down while domestic answers is a shutdown of the home country', () => {
    const ts = [...domestic, ...many(3, 'us', 'US', 'social', { down: 'tcp_timeout' }), ...many(3, 'gb', 'GB', 'news', { down: 'tcp_timeout' })];
    expect(gatewayCut(context(ts, 'KZ'))).toMatchObject({ kind: 'shutdown', country: 'KZ', mechanism: 'blackhole' });
  });

  it('one foreign country down while the rest of the world answers is not a cut', () => {
    const ts = [...domestic, ...many(5, 'us', 'US', 'social', { down: 'tcp_timeout' }), ...many(2, 'gb', 'GB', 'news')];
    expect(gatewayCut(context(ts, 'KZ'))).toBeNull();
  });

  it('needs domestic targets answering, and a home country', () => {
    const intl = [...many(3, 'us', 'US', 'social', { down: 'tcp_timeout' }), ...many(3, 'gb', 'GB', 'news', { down: 'tcp_timeout' })];
    expect(gatewayCut(context([...many(3, 'dom', 'KZ', 'news', { down: 'tcp_timeout' }), ...intl], 'KZ'))).toBeNull();
    expect(gatewayCut(context([...domestic, ...intl]))).toBeNull();
  });
});
