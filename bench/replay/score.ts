/**
 * Scoring one simulated run against its ground truth: the events (episodes) the detector opened,
 * which one detects the outage row, and how far its times are from the truth.
 */
import type { EventKind, Mechanism } from '../../src/detect/events.js';
import type { TimedChange } from '../../src/detect/replay.js';
import type { OutageRow } from './ioda.js';

/** An event as one open..close episode, with the evaluation times it was opened and closed at. */
export interface Episode {
  id: string;
  kind: EventKind;
  country: string | null;
  asn: number | null;
  category: string | null;
  /** As opened (a blocking's mechanism may be refined later; the bench judges the opening). */
  mechanism: Mechanism | null;
  openedAt: number;
  startedAt: number;
  closedAt: number | null;
  endedAt: number | null;
}

/** What a row should produce: a shutdown of the country, or a partial_outage of the ASN. */
export interface Expected {
  kind: EventKind;
  country: string;
  asn: number | null;
}

export interface RowOutcome {
  row: OutageRow;
  expected: Expected;
  /** The earliest matching episode; null: missed. */
  match: Episode | null;
  /** Every other episode of the run: each is a false event. */
  others: Episode[];
}

/** An episode detects a row when it is of the expected kind and scope and opens within this margin of the window. */
export const MATCH_MARGIN_MS = 5 * 60_000;

/** Folds changes into episodes, in opening order. */
export function episodes(changes: readonly TimedChange[]): Episode[] {
  const byId = new Map<string, Episode>();
  const out: Episode[] = [];
  for (const c of changes) {
    const e = c.event;
    if (c.type === 'opened') {
      const ep: Episode = {
        id: e.id,
        kind: e.kind,
        country: e.country,
        asn: e.asn,
        category: e.category,
        mechanism: e.mechanism,
        openedAt: c.at,
        startedAt: Date.parse(e.started_at),
        closedAt: null,
        endedAt: null,
      };
      byId.set(e.id, ep);
      out.push(ep);
    } else {
      const ep = byId.get(e.id);
      if (!ep) throw new Error(`closed event ${e.id} was never opened`);
      ep.closedAt = c.at;
      ep.endedAt = e.ended_at === null ? null : Date.parse(e.ended_at);
      byId.delete(e.id);
    }
  }
  return out;
}

export function matches(ep: Episode, exp: Expected, row: OutageRow): boolean {
  return (
    ep.kind === exp.kind &&
    ep.country === exp.country &&
    ep.asn === exp.asn &&
    ep.openedAt >= row.begin - MATCH_MARGIN_MS &&
    ep.openedAt <= row.end + MATCH_MARGIN_MS
  );
}

export function scoreRow(row: OutageRow, expected: Expected, changes: readonly TimedChange[]): RowOutcome {
  const eps = episodes(changes);
  const match = eps.find((ep) => matches(ep, expected, row)) ?? null;
  return { row, expected, match, others: eps.filter((ep) => ep !== match) };
}

/** Onset delay (open evaluation - begin), ms. */
export const onsetDelay = (o: RowOutcome): number | null => (o.match ? o.match.openedAt - o.row.begin : null);
/** started_at - begin, ms. */
export const startError = (o: RowOutcome): number | null => (o.match ? o.match.startedAt - o.row.begin : null);
/** |(ended_at - started_at) - (end - begin)|, ms; null when missed or never closed. */
export const durationError = (o: RowOutcome): number | null =>
  o.match && o.match.endedAt !== null ? Math.abs(o.match.endedAt - o.match.startedAt - (o.row.end - o.row.begin)) : null;

export interface Dist {
  n: number;
  median: number;
  p95: number;
  max: number;
}

/** Nearest-rank quantile of sorted values, q in (0, 1]. */
export function quantile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1;
  return sorted[i] as number;
}

/** median / p95 / max (nearest rank) of the non-null values; null when there are none. */
export function dist(values: readonly (number | null)[]): Dist | null {
  const xs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  return { n: xs.length, median: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: xs[xs.length - 1] as number };
}
