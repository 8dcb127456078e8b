import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownsBlock, shardOf } from '../../../src/blocks/shard.js';

const blockId = fc.integer({ min: 0, max: 2 ** 24 - 1 });

describe('rendezvous sharding of blocks', () => {
  it('is stable and in range', () => {
    fc.assert(
      fc.property(blockId, fc.integer({ min: 1, max: 64 }), (b, n) => {
        const s = shardOf(b, n);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(n);
        expect(shardOf(b, n)).toBe(s);
      }),
    );
  });

  it('from n to n + 1 shards a block either stays or moves to the new shard', () => {
    fc.assert(
      fc.property(blockId, fc.integer({ min: 1, max: 64 }), (b, n) => {
        const after = shardOf(b, n + 1);
        expect(after === shardOf(b, n) || after === n).toBe(true);
      }),
    );
  });

  it('moves about 1 / (n + 1) of the blocks, and every shard gets a fair share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 2 ** 24 - 20_001 }), (n, from) => {
        const total = 20_000;
        let moved = 0;
        const per = new Array<number>(n + 1).fill(0);
        for (let b = from; b < from + total; b++) {
          const after = shardOf(b, n + 1);
          if (after !== shardOf(b, n)) moved++;
          per[after] = (per[after] as number) + 1;
        }
        const expected = total / (n + 1);
        expect(Math.abs(moved - expected)).toBeLessThan(expected * 0.1);
        for (const c of per) expect(Math.abs(c - expected)).toBeLessThan(expected * 0.1);
      }),
      { numRuns: 20 },
    );
  });

  it('each block has exactly one owner among the shards', () => {
    fc.assert(
      fc.property(blockId, fc.integer({ min: 1, max: 32 }), (b, count) => {
        const owners = Array.from({ length: count }, (_, index) => ownsBlock(b, { index, count })).filter(Boolean);
        expect(owners).toHaveLength(1);
      }),
    );
  });
});
