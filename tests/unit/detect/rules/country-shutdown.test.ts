import { describe, expect, it } from 'vitest';
import { countryShutdowns } from '../../../../src/detect/rules/country-shutdown.js';
import { context, many, tracker } from './fixture.js';

const controls = many(3, 'c', 'US', 'control', { control: true });
const uzDown = (reason: 'tcp_timeout' | 'tcp_reset') => [
  tracker('uz-0', 'UZ', 'news', { down: reason }),
  tracker('uz-1', 'UZ', 'government', { down: reason }),
  tracker('uz-2', 'UZ', 'banking', { down: reason }),
  tracker('uz-3', 'UZ', 'news', { down: reason }),
];
const others = [tracker('kz-0', 'KZ', 'news'), tracker('kz-1', 'KZ', 'government'), tracker('kz-2', 'KZ', 'banking')];

describe('rule 3: a foreign country\'s shutdown', () => {
  it('a country mostly down while others answer is its shutdown, with or without a home country', () => {
    for (const home of [undefined, 'DE']) {
      expect(countryShutdowns(context([...controls, ...uzDown('tcp_timeout'), ...others], home))).toMatchObject([
        { kind: 'shutdown', country: 'UZ', mechanism: 'blackhole' },
      ]);
    }
  });

  it('resets are that country\'s disruption with no home country, and never a shutdown seen from one', () => {
    expect(countryShutdowns(context([...controls, ...uzDown('tcp_reset'), ...others]))).toMatchObject([{ country: 'UZ', mechanism: 'tcp_reset' }]);
    expect(countryShutdowns(context([...controls, ...uzDown('tcp_reset'), ...others], 'DE'))).toEqual([]);
  });

  it('a category failing elsewhere too is left out of the verdict', () => {
    // UZ's news and KZ's news fail while KZ's other categories answer: news is blocked, UZ is 2 of 2 left.
    const ts = [...controls, tracker('uz-0', 'UZ', 'news', { down: 'tcp_timeout' }), tracker('uz-1', 'UZ', 'news', { down: 'tcp_timeout' }), tracker('uz-2', 'UZ', 'government'), tracker('uz-3', 'UZ', 'banking'), tracker('kz-n', 'KZ', 'news', { down: 'tcp_timeout' }), ...others];
    expect(countryShutdowns(context(ts))).toEqual([]);
  });

  it('needs something outside the country to have answered since its onset', () => {
    const stale = [tracker('kz-0', 'KZ', 'news', { okAgo: 3_600_000 })];
    expect(countryShutdowns(context([...uzDown('tcp_timeout'), ...stale]))).toEqual([]);
  });
});
