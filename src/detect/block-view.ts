/**
 * What the detector is told of block probing (docs/detection.md "Block evidence"): per country
 * and per AS, the blocks monitored, up, down and uncertain and the ordinary up count (the 7-day
 * median, src/blocks/signals.ts), and the levels IODA alerts at. The block stage builds a
 * BlockView at each evaluation; the detector stays pure (the same views give the same events).
 * BlockFalls remembers, per group, since when its level has been below the warning level.
 */

/** One group's blocks as the detector sees them. */
export interface BlockGroup {
  monitored: number;
  up: number;
  down: number;
  uncertain: number;
  /** The ordinary up count (median over the window); null before enough rounds. */
  ordinary: number | null;
}

/** An AS's blocks, with the country most of them lie in (its events are that country's). */
export interface AsnBlockGroup extends BlockGroup {
  country: string | null;
}

export interface BlockView {
  /**
   * A round has been completed since the start: every monitored block has been probed and has
   * a verdict of this run. Before it, blocks read uncertain and no block verdict is given.
   */
  judged: boolean;
  /** The round (ms): the falls of a vantage going dark all begin within one round. */
  roundMs: number;
  countries: ReadonlyMap<string, BlockGroup>;
  asns: ReadonlyMap<number, AsnBlockGroup>;
}

/** What an event carries of its blocks (Evidence.blocks, docs/api.md). */
export interface BlockEvidence {
  monitored: number;
  up: number;
  down: number;
  uncertain: number;
  /** Up now over the ordinary up count, in percent (1 decimal); null before enough rounds. */
  ordinary_pct: number | null;
}

/**
 * IODA's alert levels on its active-probing signal, as fractions of the ordinary level:
 * below `warning` a group is falling, at or below `critical` it is out.
 */
export const BLOCK_LEVELS = { warning: 0.8, critical: 0.5 } as const;

/**
 * A group whose ordinary up count is below this is not judged: with fewer blocks one block
 * more or less moves the level by a fifth or more.
 */
export const MIN_ORDINARY_BLOCKS = 5;

/** Up now over ordinary (1 = ordinary); null when the group cannot be judged. */
export function levelOf(g: BlockGroup | undefined): number | null {
  if (g === undefined || g.ordinary === null || g.ordinary < MIN_ORDINARY_BLOCKS) return null;
  return g.up / g.ordinary;
}

export function blockEvidence(g: BlockGroup): BlockEvidence {
  return {
    monitored: g.monitored,
    up: g.up,
    down: g.down,
    uncertain: g.uncertain,
    ordinary_pct: g.ordinary === null || g.ordinary <= 0 ? null : Math.round((1000 * g.up) / g.ordinary) / 10,
  };
}

/** Sums groups (the vantage's evidence: every judged country together). */
export function sumGroups(groups: Iterable<BlockGroup>): BlockGroup {
  const sum: BlockGroup = { monitored: 0, up: 0, down: 0, uncertain: 0, ordinary: 0 };
  for (const g of groups) {
    sum.monitored += g.monitored;
    sum.up += g.up;
    sum.down += g.down;
    sum.uncertain += g.uncertain;
    sum.ordinary = g.ordinary === null || sum.ordinary === null ? null : sum.ordinary + g.ordinary;
  }
  return sum;
}

/** The key of a country's or an AS's group in BlockFalls. */
export const countryKey = (country: string): string => `country:${country}`;
export const asnKey = (asn: number): string => `asn:${asn}`;

/**
 * Since when each group's level has been below the warning level (the evaluation it was first
 * seen there); forgotten once it is at or above it again, or cannot be judged.
 */
export class BlockFalls {
  private readonly since = new Map<string, number>();

  /** Follows the view at `now`. */
  update(view: BlockView | null, now: number): void {
    const low = new Set<string>();
    if (view?.judged) {
      for (const [c, g] of view.countries) if (isLow(g)) low.add(countryKey(c));
      for (const [a, g] of view.asns) if (isLow(g)) low.add(asnKey(a));
    }
    for (const key of this.since.keys()) if (!low.has(key)) this.since.delete(key);
    for (const key of low) if (!this.since.has(key)) this.since.set(key, now);
  }

  /**
   * Forgets the group's fall: still below warning at the next update, it counts as falling
   * from then (an event of it closed while it recovers: its rest is not a new, smaller event).
   */
  restart(key: string): void {
    this.since.delete(key);
  }

  /** When the group's current fall began; null when it is not falling. */
  of(key: string): number | null {
    return this.since.get(key) ?? null;
  }
}

function isLow(g: BlockGroup): boolean {
  const level = levelOf(g);
  return level !== null && level < BLOCK_LEVELS.warning;
}
