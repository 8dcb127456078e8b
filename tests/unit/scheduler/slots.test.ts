import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { fnv1a32, nextDueAfter, normalizeInterval, stableOffset } from '../../../src/scheduler/slots.js';

describe('fnv1a32', () => {
  test('matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('stableOffset', () => {
  test('is an integer in [0, interval) and the same for the same id every time', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 86_400_000 }), (id, interval) => {
        const offset = stableOffset(id, interval);
        expect(Number.isInteger(offset)).toBe(true);
        expect(offset).toBeGreaterThanOrEqual(0);
        expect(offset).toBeLessThan(interval);
        expect(stableOffset(id, interval)).toBe(offset);
      }),
    );
  });

  test('does not depend on anything but the id and the interval (survives a restart)', () => {
    // Pinned values: changing the hash would move every target's phase on upgrade.
    expect(stableOffset('kz-egov', 60_000)).toBe(fnv1a32('kz-egov') % 60_000);
    expect(stableOffset('t-0000', 10_000)).toBe(stableOffset('t-0000', 10_000));
    expect(stableOffset('t-0000', 10_000)).not.toBe(stableOffset('t-0001', 10_000));
  });

  test('spreads 1,000 ids evenly over a 10 s interval', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) {
      const offset = stableOffset(`t-${String(i).padStart(4, '0')}`, 10_000);
      buckets[Math.floor(offset / 1000)]! += 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThanOrEqual(70);
    for (const count of buckets) expect(count).toBeLessThanOrEqual(130);
  });
});

describe('nextDueAfter', () => {
  test('is the first wall-clock-aligned slot strictly after the given time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.nat(),
        (after, interval, seed) => {
          const offset = seed % interval;
          const due = nextDueAfter(after, interval, offset);
          expect(due).toBeGreaterThan(after);
          expect(due - after).toBeLessThanOrEqual(interval);
          expect((due - offset) % interval).toBe(0);
        },
      ),
    );
  });

  test('worked example: 60 s interval, offset 12.345 s', () => {
    const minute = Date.UTC(2024, 0, 1, 0, 0, 0);
    expect(nextDueAfter(minute, 60_000, 12_345)).toBe(minute + 12_345);
    expect(nextDueAfter(minute + 12_345, 60_000, 12_345)).toBe(minute + 72_345);
    expect(nextDueAfter(minute + 12_344, 60_000, 12_345)).toBe(minute + 12_345);
  });
});

describe('normalizeInterval', () => {
  test('rounds to a positive integer', () => {
    expect(normalizeInterval(1500.4)).toBe(1500);
    expect(normalizeInterval(0)).toBe(1);
    expect(normalizeInterval(60_000)).toBe(60_000);
  });
});
