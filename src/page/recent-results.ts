/**
 * The last few results of every target, for the status page: the newest in full, and the
 * outcomes (ok or not) of the last `size`. Sits on the probe path: a result costs one map
 * lookup and a few stores (the result object itself is kept, not copied); a target's ring is
 * made once, on its first result. Only one result per target is held, not `size`: every kept
 * result outlives a minute and so lands in V8's old generation, and at 50,000 targets five of
 * them each were 250,000 long-lived objects for every major collection to walk (issue 28).
 * Bounded: forget() drops the rings of targets no longer configured.
 */
import type { ProbeResult } from '../probers/types.js';

export const RECENT_RESULTS = 5;

/** A target's recent results, as the page shows them. */
export interface Recent {
  /** The newest result, null before the first. */
  last: ProbeResult | null;
  /** The outcomes of the last `size` results, newest first (the newest is `last`'s). */
  outcomes: boolean[];
}

interface Ring {
  last: ProbeResult;
  /** Bit k: whether the k-th newest result was ok. */
  oks: number;
  count: number;
}

export class RecentResults {
  private readonly rings = new Map<string, Ring>();

  /** @param size outcomes kept per target, 1 to 30 */
  constructor(readonly size: number = RECENT_RESULTS) {
    if (!Number.isInteger(size) || size < 1 || size > 30) throw new Error(`RecentResults size must be an integer 1..30, got ${size}`);
  }

  observe(result: ProbeResult): void {
    const bit = result.ok ? 1 : 0;
    const ring = this.rings.get(result.target);
    if (!ring) {
      this.rings.set(result.target, { last: result, oks: bit, count: 1 });
      return;
    }
    ring.last = result;
    ring.oks = ((ring.oks << 1) | bit) & ((1 << this.size) - 1);
    ring.count = Math.min(ring.count + 1, this.size);
  }

  /** The target's newest result and recent outcomes. */
  of(target: string): Recent {
    const ring = this.rings.get(target);
    if (!ring) return { last: null, outcomes: [] };
    const outcomes: boolean[] = [];
    for (let k = 0; k < ring.count; k++) outcomes.push(((ring.oks >> k) & 1) === 1);
    return { last: ring.last, outcomes };
  }

  /** Keeps only the rings of these target ids (after a reload). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.rings.keys()) if (!ids.has(id)) this.rings.delete(id);
  }
}
