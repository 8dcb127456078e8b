import { describe, expect, it } from 'vitest';
import { BLOCK_MINUTES, MinuteRing } from '../../../src/history/minute-ring.js';

describe('MinuteRing', () => {
  it('takes memory block by block as minutes are written', () => {
    const ring = new MinuteRing(7 * 24 * 60);
    expect(ring.blocksInUse).toBe(0);
    ring.set(1_000_000, 3, 2, 1.25);
    expect(ring.blocksInUse).toBe(1);
    for (let m = 1_000_000; m < 1_000_000 + 3 * BLOCK_MINUTES; m++) ring.set(m, 1, 1, null);
    expect(ring.blocksInUse).toBeLessThanOrEqual(4);
    expect(ring.targetsAt(999_999)).toBe(0);
    expect(ring.latencyAt(999_999)).toBeNull();
  });

  it('reads back what was set across blocks and around the wrap, and empty slots as no data', () => {
    const capacity = 2 * BLOCK_MINUTES + 30; // the last block is partly used
    const ring = new MinuteRing(capacity);
    const start = 5 * capacity - 10; // wraps within the written range
    for (let m = start; m < start + capacity; m += 7) ring.set(m, 10, m % 10, (m % 300) / 100);
    for (let m = start; m < start + capacity; m++) {
      const written = (m - start) % 7 === 0;
      expect(ring.targetsAt(m)).toBe(written ? 10 : 0);
      expect(ring.upAt(m)).toBe(written ? m % 10 : 0);
      expect(ring.latencyAt(m)).toBe(written ? (m % 300) / 100 : null);
    }
  });

  it('clears a range that spans written and never-written blocks', () => {
    const capacity = 3 * BLOCK_MINUTES;
    const ring = new MinuteRing(capacity);
    ring.set(10, 4, 4, 1);
    ring.set(2 * BLOCK_MINUTES + 5, 4, 3, 2);
    ring.clear(5, 2 * BLOCK_MINUTES + 4);
    expect(ring.targetsAt(10)).toBe(0);
    expect(ring.latencyAt(10)).toBeNull();
    expect(ring.targetsAt(2 * BLOCK_MINUTES + 5)).toBe(4);
    ring.clear(0, 10 * capacity);
    expect(ring.targetsAt(2 * BLOCK_MINUTES + 5)).toBe(0);
  });
});
