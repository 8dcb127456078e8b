/**
 * Which instance probes a block: rendezvous (highest random weight) hashing of the block over
 * `count` shards. Every instance computes the same owner with no coordination, and going from
 * n to n + 1 shards moves only the blocks the new shard wins (about 1 / (n + 1) of them);
 * removing the last shard moves only its own blocks.
 */
import type { BlockId } from './block.js';

/** murmur3's 32-bit finaliser: a fast, well-mixed hash of a 32-bit integer. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The weight of shard `index` for block `b`. */
function weight(b: BlockId, index: number): number {
  return mix32(mix32(b) ^ Math.imul(index + 1, 0x9e3779b1));
}

/** The shard (0 .. count - 1) that owns block `b`; ties go to the lower index. */
export function shardOf(b: BlockId, count: number): number {
  let best = 0;
  let bestWeight = -1;
  for (let i = 0; i < count; i++) {
    const w = weight(b, i);
    if (w > bestWeight) {
      best = i;
      bestWeight = w;
    }
  }
  return best;
}

/** Whether this instance (shard `index` of `count`) owns block `b`. */
export function ownsBlock(b: BlockId, shard: { index: number; count: number }): boolean {
  return shard.count <= 1 || shardOf(b, shard.count) === shard.index;
}
