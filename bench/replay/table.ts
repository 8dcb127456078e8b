/**
 * The benchmark report as plain text: a summary table, the goals, and the misses and false
 * events described one a line, so a regression can be traced to a row.
 */
import type { BenchReport, ScopeSummary } from './bench.js';
import type { Dist } from './score.js';
import { DEFAULT_NOISE } from './generate.js';
import { SCHEDULE } from './world.js';

/** The goals of the issue, in seconds where they are times. */
export const GOALS = {
  recall: 0.99,
  quietPer30Days: 0,
  onsetMedianS: (SCHEDULE.interval + SCHEDULE.confirm_delay + SCHEDULE.timeout) / 1000,
  durationErrorMedianS: SCHEDULE.interval / 1000,
  resultsPerSecond: 100_000,
} as const;

const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(2)}%`);
const sec = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(1)}s`);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const m = (d: Dist | null): string => sec(d?.median);
const p = (d: Dist | null): string => sec(d?.p95);

function scopeRow(s: ScopeSummary): string[] {
  return [s.scope, String(s.rows), String(s.detected), pct(s.recall), m(s.onset), p(s.onset), m(s.startError), p(s.startError), m(s.durationError), p(s.durationError), String(s.unclosed)];
}

/** Every figure of the report; deterministic for a given report. */
export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const n = DEFAULT_NOISE;
  out.push(`Replay benchmark (seed ${r.seed})`);
  out.push(
    `IODA rows: ${r.csv.total} in the file: ${r.csv.country} country + ${r.csv.as} as replayed` +
      (r.csv.limitedOut > 0 ? ` (${r.csv.limitedOut} left out by --rows)` : '') +
      `, ${r.csv.regionSkipped} region rows skipped (not in scope)`,
  );
  out.push(
    `World: ${r.world.country}, ${r.world.targets} targets over AS ${r.world.asns.join(', ')} (1 dead, 1 flapping), ${r.world.controls} controls, outside-in vantage; ` +
      `${SCHEDULE.interval / 1000}s interval, ${SCHEDULE.timeout / 1000}s timeout, ${SCHEDULE.confirm_delay / 1000}s confirm; ` +
      `noise ${n.loss * 100}% loss, ${n.spike * 100}% spikes ${n.spikeFactor[0]}-${n.spikeFactor[1]}x, flaps of ${n.flapProbes[0]}-${n.flapProbes[1]} probes`,
  );
  out.push('');
  out.push(
    table(
      ['scope', 'rows', 'detected', 'recall', 'onset med', 'onset p95', 'start err med', 'start err p95', 'dur err med', 'dur err p95', 'unclosed'],
      r.scopes.map(scopeRow),
    ),
  );
  out.push('onset = open evaluation - begin; start err = started_at - begin; dur err = |detected - true duration|');
  out.push('');
  const f = r.falseInOutageRuns;
  out.push(`False events in outage runs: ${f.count}${kinds(f.byKind)}`);
  const q = r.quiet;
  out.push(`Quiet days: ${q.days} days, ${int(q.results)} results, ${q.opened} events opened = ${q.per30Days.toFixed(2)} per 30 days${kinds(q.events.byKind)}`);
  out.push('');
  if (r.throughput.length > 0) {
    out.push(
      table(
        ['throughput (replay(), one core)', 'targets', 'results', 'seconds', 'results/s', 'x simulated time'],
        r.throughput.map((t) => [t.label, String(t.targets), int(t.results), t.seconds.toFixed(2), int(t.resultsPerSecond), int(t.spanMs / 1000 / t.seconds)]),
      ),
    );
    out.push(`(median of ${r.throughput[0]?.runs ?? 0} runs each; generation not timed)`);
    out.push('');
  }
  out.push('Goals:');
  for (const s of r.scopes) {
    if (s.recall !== null) out.push(goal(`recall ${s.scope} >= ${pct(GOALS.recall)}`, s.recall >= GOALS.recall, pct(s.recall)));
  }
  out.push(goal(`false events per 30 quiet days = ${GOALS.quietPer30Days}`, q.per30Days <= GOALS.quietPer30Days, q.per30Days.toFixed(2)));
  for (const s of r.scopes) {
    if (s.onset) out.push(goal(`median onset delay ${s.scope} <= ${GOALS.onsetMedianS}s`, s.onset.median <= GOALS.onsetMedianS, sec(s.onset.median)));
    if (s.durationError) {
      out.push(goal(`median duration error ${s.scope} <= ${GOALS.durationErrorMedianS}s`, s.durationError.median <= GOALS.durationErrorMedianS, sec(s.durationError.median)));
    }
  }
  for (const t of r.throughput) out.push(goal(`throughput >= ${int(GOALS.resultsPerSecond)} results/s (${t.label})`, t.resultsPerSecond >= GOALS.resultsPerSecond, int(t.resultsPerSecond)));
  const misses = r.scopes.flatMap((s) => s.missed);
  if (misses.length > 0) out.push('', 'Missed rows (first 10 per scope):', ...misses.map((x) => `  ${x}`));
  if (f.examples.length > 0) out.push('', 'False events in outage runs (first 10):', ...f.examples.map((x) => `  ${x}`));
  if (q.events.examples.length > 0) out.push('', 'Events in quiet days (first 10):', ...q.events.examples.map((x) => `  ${x}`));
  return out.join('\n') + '\n';
}

function kinds(byKind: Record<string, number>): string {
  const parts = Object.entries(byKind)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

function goal(what: string, met: boolean, got: string): string {
  return `  [${met ? 'met' : 'MISSED'}] ${what}: ${got}`;
}
