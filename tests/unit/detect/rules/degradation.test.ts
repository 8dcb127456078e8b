import { describe, expect, it } from 'vitest';
import { degradations } from '../../../../src/detect/rules/degradation.js';
import { context, many } from './fixture.js';

const slow = { ratio: 6, slowFor: 300_000 };

describe('rule 6: degradation', () => {
  it('from a home, the international targets slow together are the home country\'s degradation', () => {
    const ts = [...many(3, 'dom', 'KZ', 'news', { ratio: 1 }), ...many(3, 'us', 'US', 'social', slow), ...many(3, 'gb', 'GB', 'news', slow)];
    expect(degradations(context(ts, 'KZ'), new Set())).toMatchObject([{ kind: 'degradation', country: 'KZ' }]);
  });

  it('one foreign country slow while the rest answers at speed is that country\'s', () => {
    const ts = [...many(3, 'de', 'DE', 'news', { ratio: 1 }), ...many(3, 'ir', 'IR', 'news', slow), ...many(4, 'kz', 'KZ', 'news', { ratio: 1, okAgo: 1_000 })];
    for (const home of [undefined, 'DE']) expect(degradations(context(ts, home), new Set())).toMatchObject([{ country: 'IR' }]);
  });

  it('with no home, every country slow at once is the vantage\'s own path: nothing is named', () => {
    const ts = [...many(3, 'ir', 'IR', 'news', slow), ...many(3, 'kz', 'KZ', 'news', { ...slow, okAgo: 1_000 }), ...many(3, 'c', 'US', 'control', { control: true, ...slow, okAgo: 1_000 })];
    expect(degradations(context(ts), new Set())).toEqual([]);
  });

  it('a dark country is not judged', () => {
    const ts = [...many(3, 'ir', 'IR', 'news', slow)];
    expect(degradations(context(ts), new Set(['IR']))).toEqual([]);
  });
});
