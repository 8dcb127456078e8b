/**
 * The CSV behind a report's chart: one row per line and minute, RFC 4180 (comma separated,
 * CRLF line ends, fields quoted when they need it). Local time uses the offset of the report's
 * zone at the event's start, the same as the chart's axis.
 */
import type { SeriesLine } from '../history/types.js';
import { lineLabel } from '../chart/spec.js';
import type { CountryZone } from './time-zone.js';

export const CSV_HEADER = ['time_utc', 'time_local', 'line', 'country', 'asn', 'category', 'path', 'targets', 'up', 'reachability', 'latency_ratio', 'in_event'] as const;

/** The rows of `lines` inside [from, to); `in_event` is 1 for minutes within [start, end). */
export function reportCsv(lines: readonly SeriesLine[], range: { from: number; to: number; start: number; end: number }, zone: CountryZone | null, home?: string | null): string {
  const out = [CSV_HEADER.join(',')];
  for (const line of lines) {
    const label = lineLabel(line.key, home);
    const k = line.key;
    for (const p of line.points) {
      if (p.t < range.from || p.t >= range.to) continue;
      out.push(
        [
          isoMinute(p.t),
          zone === null ? '' : isoMinute(p.t + zone.offsetMs),
          label,
          k.country ?? '',
          k.asn ?? '',
          k.category ?? '',
          k.path,
          p.targets,
          p.up,
          p.reachability === null ? '' : round(p.reachability),
          p.latency_ratio === null ? '' : round(p.latency_ratio),
          p.t + 60_000 > range.start && p.t < range.end ? 1 : 0,
        ]
          .map(field)
          .join(','),
      );
    }
  }
  return `${out.join('\r\n')}\r\n`;
}

/** "2019-06-09T05:00" (the zone is in the column's name). */
function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

/** A field quoted when it holds a comma, a quote or a line break; a leading =+-@ is defused for spreadsheets. */
function field(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
