/**
 * Per-country and per-ASN block signals (docs/blocks.md "Signals"): how many blocks are
 * monitored, up, down and uncertain, and "connectivity, % of ordinary": the blocks up now over
 * the median of the up counts sampled at each round's end over a sliding 7-day window (IODA's
 * baseline). Before `minRounds` samples exist there is no ordinary level (null). Pure.
 */
import type { BlockVerdict } from './belief.js';

export interface GroupCounts {
  monitored: number;
  up: number;
  down: number;
  uncertain: number;
}

export interface GroupSignal extends GroupCounts {
  /** Up now over the ordinary up count, in percent (1 decimal); null before enough history. */
  ordinary_pct: number | null;
}

/** What the signals need of a block. */
export interface BlockReading {
  country: string | null;
  asn: number | null;
  /** Null when not monitored. */
  verdict: BlockVerdict | null;
}

/** The sliding window of the ordinary level: 7 days. */
export const BASELINE_WINDOW_MS = 7 * 24 * 3_600_000;

function bump(map: Map<string, GroupCounts>, key: string, verdict: BlockVerdict): void {
  let c = map.get(key);
  if (!c) map.set(key, (c = { monitored: 0, up: 0, down: 0, uncertain: 0 }));
  c.monitored++;
  c[verdict]++;
}

/** Counts of monitored blocks by country and by ASN (keys: country code, ASN as a string). */
export function countGroups(blocks: Iterable<BlockReading>): { countries: Map<string, GroupCounts>; asns: Map<string, GroupCounts> } {
  const countries = new Map<string, GroupCounts>();
  const asns = new Map<string, GroupCounts>();
  for (const b of blocks) {
    if (b.verdict === null) continue;
    if (b.country !== null) bump(countries, b.country, b.verdict);
    if (b.asn !== null) bump(asns, String(b.asn), b.verdict);
  }
  return { countries, asns };
}

/** Round-end samples of up counts per group key ("country:KZ", "asn:9198"), oldest first. */
export type HistoryData = Record<string, [at: number, up: number][]>;

export class BaselineHistory {
  private readonly samples = new Map<string, [number, number][]>();
  /** Medians asked for since the last record(), by `${minRounds}:${key}` (a read sorts a week of samples). */
  private readonly medians = new Map<string, number | null>();

  constructor(data: HistoryData = {}) {
    for (const [key, list] of Object.entries(data)) this.samples.set(key, list.filter(([at, up]) => Number.isFinite(at) && Number.isFinite(up)));
  }

  /** Records each group's up count at `at` and forgets samples older than the window. */
  record(at: number, ups: ReadonlyMap<string, number>): void {
    this.medians.clear();
    for (const [key, up] of ups) {
      let list = this.samples.get(key);
      if (!list) this.samples.set(key, (list = []));
      list.push([at, up]);
    }
    for (const [key, list] of this.samples) {
      const keep = list.findIndex(([t]) => t > at - BASELINE_WINDOW_MS);
      if (keep < 0) this.samples.delete(key);
      else if (keep > 0) list.splice(0, keep);
    }
  }

  /** The median up count of a group over the window; null with fewer than `minRounds` samples. */
  median(key: string, minRounds: number): number | null {
    const memo = `${minRounds}:${key}`;
    if (this.medians.has(memo)) return this.medians.get(memo) ?? null;
    const value = this.computeMedian(key, minRounds);
    this.medians.set(memo, value);
    return value;
  }

  private computeMedian(key: string, minRounds: number): number | null {
    const list = this.samples.get(key);
    if (!list || list.length < minRounds) return null;
    const sorted = list.map(([, up]) => up).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  }

  toJSON(): HistoryData {
    return Object.fromEntries(this.samples);
  }
}

/** The signal of one group: its counts and up now over its ordinary level, in percent. */
export function groupSignal(counts: GroupCounts, ordinary: number | null): GroupSignal {
  const pct = ordinary === null || ordinary <= 0 ? null : Math.round((1000 * counts.up) / ordinary) / 10;
  return { ...counts, ordinary_pct: pct };
}
