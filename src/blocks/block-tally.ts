/**
 * The block counts per country and per AS, kept as blocks change instead of counted by walking
 * every block (docs/blocks.md "Signals"): a block's standing (its verdict when monitored, else
 * why not) is taken out of the counts it was in and put into the new ones each time it may
 * have changed. So reading the counts costs the number of groups, not of blocks: the metrics,
 * the API and the detector read them at every scrape, request and evaluation, and at 100,000
 * blocks a walk per read was the only cost that grew with the blocks of a country.
 */
import type { BlockVerdict } from './belief.js';
import { unmonitoredReason, UNMONITORED_REASONS, type BlockState, type Eligibility, type Standing, type UnmonitoredReason } from './block-state.js';
import type { GroupCounts } from './signals.js';

function isReason(s: Standing): s is UnmonitoredReason {
  return (UNMONITORED_REASONS as readonly string[]).includes(s);
}

export class BlockTally {
  /** Monitored blocks by country and by ASN (as a string); a group whose count fell to 0 stays, at 0. */
  readonly countries = new Map<string, GroupCounts>();
  readonly asns = new Map<string, GroupCounts>();
  readonly unmonitored = Object.fromEntries(UNMONITORED_REASONS.map((r) => [r, 0])) as Record<UnmonitoredReason, number>;
  monitored = 0;

  constructor(readonly eligibility: Eligibility) {}

  /** Counts the block where it stands now (moving it from where it was counted). O(1). */
  update(s: BlockState): void {
    const now = unmonitoredReason(s, this.eligibility) ?? s.verdict;
    if (s.tallied === now) return;
    if (s.tallied !== null) this.add(s, s.tallied, -1);
    this.add(s, now, 1);
    s.tallied = now;
  }

  private add(s: BlockState, standing: Standing, by: 1 | -1): void {
    if (isReason(standing)) {
      this.unmonitored[standing] += by;
      return;
    }
    this.monitored += by;
    if (s.entry.country !== null) bump(this.countries, s.entry.country, standing, by);
    if (s.entry.asn !== null) bump(this.asns, String(s.entry.asn), standing, by);
  }
}

function bump(map: Map<string, GroupCounts>, key: string, verdict: BlockVerdict, by: 1 | -1): void {
  let c = map.get(key);
  if (!c) map.set(key, (c = { monitored: 0, up: 0, down: 0, uncertain: 0 }));
  c.monitored += by;
  c[verdict] += by;
}
