/**
 * What an event report shows (pure): the window around the event, and which lines of the
 * history are drawn and exported. The window has margins on both sides (the event's own length,
 * at least 30 minutes and at most 6 hours) so that the ordinary before and after is visible;
 * an open event's window ends now.
 */
import type { DisruptionEvent } from '../detect/events.js';
import type { SeriesLine, SeriesQuery, SeriesReader } from '../history/types.js';
import { isTotal } from '../chart/spec.js';

const MINUTE_MS = 60_000;
const MIN_MARGIN_MS = 30 * MINUTE_MS;
const MAX_MARGIN_MS = 6 * 60 * MINUTE_MS;
/** ASN lines and category lines drawn, at most each: the event's own first, then the largest. */
export const MAX_LINES_PER_KIND = 8;

export interface EventWindow {
  /** The event itself, ms since the epoch; `end` is now for an open event. */
  start: number;
  end: number;
  open: boolean;
  /** The chart's window: whole minutes, [from, to). */
  from: number;
  to: number;
}

/** The window of `event` as seen at `now` (ms). */
export function eventWindow(event: DisruptionEvent, now: number): EventWindow {
  const start = Date.parse(event.started_at);
  const open = event.ended_at === null;
  const end = open ? Math.max(start, now) : Date.parse(event.ended_at as string);
  const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, end - start));
  const from = Math.floor((start - margin) / MINUTE_MS) * MINUTE_MS;
  // Up to now (its minute included) when the margin after the event has not passed yet.
  const byNow = open || end + margin > now;
  const to = byNow ? Math.floor(Math.max(now, end) / MINUTE_MS) * MINUTE_MS + MINUTE_MS : Math.ceil((end + margin) / MINUTE_MS) * MINUTE_MS;
  return { start, end, open, from, to };
}

/**
 * The lines of the event's country on the event's path (the default route when it has none):
 * the country's own line, its ASNs and its categories (the event's own first, then by size, at
 * most MAX_LINES_PER_KIND each). An event without a country (a vantage offline without a home
 * country) shows every country's own line.
 */
export function eventLines(reader: SeriesReader, event: DisruptionEvent, window: EventWindow): SeriesLine[] {
  const [own, blocked] = eventQueries(event);
  const lines = reader.query({ ...own, from: window.from, to: window.to });
  if (event.country === null) return lines.filter((l) => isTotal(l.key)).sort(bySize).slice(0, MAX_LINES_PER_KIND);
  const asns = new Set([...(event.asn === null ? [] : [event.asn]), ...(event.evidence.asns ?? [])]);
  const categories = new Set([...(event.category === null ? [] : [event.category]), ...(event.evidence.categories ?? [])]);
  // Blocking seen from inside: the blocked services are mostly abroad, in other countries' lines.
  const abroad = blocked === undefined ? [] : reader.query({ ...blocked, from: window.from, to: window.to }).filter((l) => l.key.country !== event.country && l.key.asn === null);
  return [...selectLines(lines, asns, categories), ...abroad.sort(bySize).slice(0, MAX_LINES_PER_KIND)];
}

/** What eventLines reads: the event's country (or everything) on its path, and its category anywhere. */
export function eventQueries(event: DisruptionEvent): Omit<SeriesQuery, 'from' | 'to'>[] {
  const path = event.path ?? '';
  return [event.country === null ? { path } : { country: event.country, path }, ...(event.category === null ? [] : [{ category: event.category, path }])];
}

/**
 * A country's lines to draw: its own line, then at most MAX_LINES_PER_KIND ASN lines and as many
 * category lines, those named in `asns` and `categories` first, then the largest.
 */
export function selectLines(lines: readonly SeriesLine[], asns: ReadonlySet<number>, categories: ReadonlySet<string>): SeriesLine[] {
  const pick = (of: SeriesLine[], own: (l: SeriesLine) => boolean): SeriesLine[] =>
    [...of.filter(own).sort(bySize), ...of.filter((l) => !own(l)).sort(bySize)].slice(0, MAX_LINES_PER_KIND);
  return [
    ...lines.filter((l) => isTotal(l.key)),
    ...pick(lines.filter((l) => l.key.asn !== null), (l) => asns.has(l.key.asn as number)),
    ...pick(lines.filter((l) => l.key.asn === null && l.key.category !== null), (l) => categories.has(l.key.category as string)),
  ];
}

/** Larger lines (more targets at their largest) first. */
function bySize(a: SeriesLine, b: SeriesLine): number {
  return maxTargets(b) - maxTargets(a);
}

function maxTargets(line: SeriesLine): number {
  let max = 0;
  for (const p of line.points) if (p.targets > max) max = p.targets;
  return max;
}
