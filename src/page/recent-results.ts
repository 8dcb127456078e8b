/**
 * The last few results of every target, for the status page. Sits on the probe path: a result
 * costs one map lookup and one array store (the result object itself is kept, not copied); a
 * target's ring is made once, on its first result. Bounded: `size` results per target, and
 * forget() drops the rings of targets no longer configured.
 */
import type { ProbeResult } from '../probers/types.js';

export const RECENT_RESULTS = 5;

interface Ring {
  results: (ProbeResult | undefined)[];
  next: number;
}

export class RecentResults {
  private readonly rings = new Map<string, Ring>();

  constructor(readonly size: number = RECENT_RESULTS) {}

  observe(result: ProbeResult): void {
    let ring = this.rings.get(result.target);
    if (!ring) {
      ring = { results: new Array<ProbeResult | undefined>(this.size), next: 0 };
      this.rings.set(result.target, ring);
    }
    ring.results[ring.next] = result;
    ring.next = (ring.next + 1) % this.size;
  }

  /** The target's kept results, newest first. */
  of(target: string): ProbeResult[] {
    const ring = this.rings.get(target);
    if (!ring) return [];
    const out: ProbeResult[] = [];
    for (let k = 1; k <= this.size; k++) {
      const r = ring.results[(ring.next - k + this.size) % this.size];
      if (r) out.push(r);
    }
    return out;
  }

  /** Keeps only the rings of these target ids (after a reload). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.rings.keys()) if (!ids.has(id)) this.rings.delete(id);
  }
}
