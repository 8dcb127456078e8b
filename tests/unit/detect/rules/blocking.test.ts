import { describe, expect, it } from 'vitest';
import { blockings } from '../../../../src/detect/rules/blocking.js';
import { context, many } from './fixture.js';

const none = (): boolean => false;

describe('rule 5: service blocking', () => {
  it('from a home: a category\'s international members failing with a signature is blocking at home', () => {
    const ts = [...many(2, 'dom-news', 'KZ', 'news'), ...many(3, 'gb-news', 'GB', 'news', { down: 'http_blockpage' }), ...many(2, 'us-social', 'US', 'social')];
    expect(blockings(context(ts, 'KZ'), new Set(), none)).toMatchObject([{ kind: 'service_blocking', country: 'KZ', category: 'news', mechanism: 'http' }]);
  });

  it('with no home: one country\'s category is its blocking, several countries\' is the vantage side (country null)', () => {
    const base = [...many(2, 'kz-gov', 'KZ', 'government'), ...many(2, 'uz-gov', 'UZ', 'government')];
    const one = [...base, ...many(2, 'kz-news', 'KZ', 'news', { down: 'tcp_reset' }), ...many(2, 'uz-news', 'UZ', 'news')];
    expect(blockings(context(one), new Set(), none)).toMatchObject([{ country: 'KZ', category: 'news', mechanism: 'tcp_reset' }]);
    const both = [...base, ...many(2, 'kz-news', 'KZ', 'news', { down: 'tcp_reset' }), ...many(2, 'uz-news', 'UZ', 'news', { down: 'tcp_reset' })];
    expect(blockings(context(both), new Set(), none)).toMatchObject([{ country: null, category: 'news', mechanism: 'tcp_reset' }]);
  });

  it('failures an outage explains are left out, and another category must answer', () => {
    const ts = [...many(2, 'kz-news', 'KZ', 'news', { down: 'tcp_timeout', asn: 21299 }), ...many(2, 'kz-gov', 'KZ', 'government')];
    expect(blockings(context(ts), new Set(), (t) => t.target.asn === 21299)).toEqual([]);
    const allDown = [...many(2, 'kz-news', 'KZ', 'news', { down: 'tcp_reset' }), ...many(2, 'kz-gov', 'KZ', 'government', { down: 'tcp_timeout' })];
    expect(blockings(context(allDown), new Set(), none).map((c) => c.category)).toEqual([]);
  });

  it('from a home, one foreign country\'s category timing out is not named a blocking (it may be an outage there)', () => {
    const ts = [...many(2, 'dom-news', 'KZ', 'news'), ...many(2, 'gb-news', 'GB', 'news', { down: 'tcp_timeout' }), ...many(2, 'us-news', 'US', 'news'), ...many(2, 'us-social', 'US', 'social')];
    expect(blockings(context(ts, 'KZ'), new Set(), none)).toEqual([]);
  });
});
