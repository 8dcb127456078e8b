import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';
import { Duration } from '../../../src/config/schema.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['10', '-1s', '1d', '', 's', '1 h', '1hh', '1.s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('round-trips every positive integer through formatDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('formats with the largest exact unit', () => {
    expect([500, 10_000, 90_000, 300_000, 7_200_000].map(formatDuration)).toEqual(['500ms', '10s', '90s', '5m', '2h']);
  });
});

describe('Duration schema', () => {
  it('turns a duration string into milliseconds', () => {
    expect(Duration.parse('5m')).toBe(300_000);
  });

  it.each(['10', '-1s', '1d', '0s'])('rejects %j with a message naming the units', (text) => {
    const result = Duration.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('500ms, 10s, 5m, 1h');
  });

  it('rejects a bare number as not a duration string', () => {
    expect(Duration.safeParse(10).error?.issues[0]?.message).toBe('expected a duration such as 500ms, 10s, 5m or 1h');
  });
});
