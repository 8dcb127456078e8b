/**
 * The replay benchmark: IODA outage windows (country- and AS-scoped rows) replayed as simulated
 * probe streams through the detector, 30 quiet days of noise, and the detector's replay
 * throughput. Pure apart from the clock used for the throughput figures; the CLI is run.ts.
 */
import { performance } from 'node:perf_hooks';
import { DetectionConfig } from '../../src/config/schema.js';
import type { DetectorOptions } from '../../src/detect/options.js';
import { replay } from '../../src/detect/replay.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { generateResults, type Blackout, type Noise } from './generate.js';
import type { OutageRow } from './ioda.js';
import { fnv1a, mulberry32, subSeed } from './prng.js';
import { dist, durationError, episodes, onsetDelay, scoreRow, startError, type Dist, type Episode, type Expected, type RowOutcome } from './score.js';
import { buildWorld, resolvedTargets, SCHEDULE, type World } from './world.js';

/** Simulated time before begin and after end of every outage window. */
export const PAD_MS = 3 * 3_600_000;
const DAY_MS = 86_400_000;
/** Quiet days start here (any fixed instant; the detector only sees relative time). */
const QUIET_START = Date.UTC(2023, 0, 1);
/** Countries of the throughput world, in order. */
const THROUGHPUT_COUNTRIES = ['KZ', 'UZ', 'KG', 'TJ', 'TM', 'AZ', 'AM', 'GE', 'BY', 'UA', 'MD', 'MN', 'IR', 'IQ', 'SY', 'EG', 'ET', 'SD', 'MM', 'BD', 'PK', 'VE', 'CU', 'ZW', 'UG', 'TZ', 'KE', 'NG', 'CM', 'TD'];

export interface BenchOptions {
  /** All rows of the CSV; region rows (and any beyond `limit`) are skipped and counted. */
  rows: readonly OutageRow[];
  /** Use only the first `limit` country- and AS-scoped rows (file order); default all. */
  limit?: number;
  seed: number;
  quietDays: number;
  /** Throughput world: how many countries (15 targets each, plus 4 controls) over how many days; null: skip. */
  throughput: { countries: number; days: number; runs: number } | null;
  noise?: Noise;
}

export interface ScopeSummary {
  scope: 'country' | 'as';
  rows: number;
  detected: number;
  /** detected / rows; null when rows = 0. */
  recall: number | null;
  /** Seconds: open evaluation - begin. */
  onset: Dist | null;
  /** Seconds: started_at - begin (signed). */
  startError: Dist | null;
  /** Seconds: |detected duration - true duration|, over the detected events that closed. */
  durationError: Dist | null;
  /** Detected but still open at the end of the run (no duration error). */
  unclosed: number;
  /** Up to 10 missed rows, described. */
  missed: string[];
}

export interface FalseEvents {
  count: number;
  byKind: Record<string, number>;
  /** Up to 10, described. */
  examples: string[];
}

export interface Throughput {
  label: string;
  targets: number;
  results: number;
  /** Simulated span, ms. */
  spanMs: number;
  /** Median wall time of the runs, seconds. */
  seconds: number;
  resultsPerSecond: number;
  runs: number;
}

export interface BenchReport {
  seed: number;
  csv: { total: number; country: number; as: number; regionSkipped: number; limitedOut: number };
  world: { country: string; targets: number; asns: number[]; controls: number };
  scopes: ScopeSummary[];
  /** Events in the outage runs other than the one that detected the row. */
  falseInOutageRuns: FalseEvents;
  quiet: { days: number; results: number; opened: number; per30Days: number; events: FalseEvents };
  throughput: Throughput[];
}

export function detectorOptions(world: World): DetectorOptions {
  return { detection: DetectionConfig.parse({}), vantage: world.vantage, targets: resolvedTargets(world) };
}

/** The ASN of the main country an AS-scoped row is mapped to (by hash of the row id). */
export function asnFor(row: OutageRow, world: World): number {
  const list = world.asns.get(world.countries[0] as string) as number[];
  return list[fnv1a(row.id) % list.length] as number;
}

export function expectedFor(row: OutageRow, world: World): Expected {
  const country = world.countries[0] as string;
  return row.scope === 'country' ? { kind: 'shutdown', country, asn: null } : { kind: 'partial_outage', country, asn: asnFor(row, world) };
}

/** Simulates one outage row from begin - PAD_MS to end + PAD_MS and scores it. */
export function runRow(row: OutageRow, index: number, world: World, seed: number, noise?: Noise): RowOutcome {
  const expected = expectedFor(row, world);
  const blackout: Blackout = { country: expected.country, asn: expected.asn, from: row.begin, to: row.end };
  const from = row.begin - PAD_MS;
  const to = row.end + PAD_MS;
  const rowSeed = subSeed(seed, `row:${index}:${row.id}`);
  const phaseMs = Math.floor(mulberry32(rowSeed).uniform(0, SCHEDULE.interval));
  const results = generateResults({ world, from, to, blackouts: [blackout], seed: rowSeed, phaseMs, ...(noise ? { noise } : {}) });
  return scoreRow(row, expected, replay(results, detectorOptions(world), to));
}

export function runBench(opts: BenchOptions): BenchReport {
  const world = buildWorld({ seed: opts.seed });
  const scoped = opts.rows.filter((r) => r.scope === 'country' || r.scope === 'as');
  const selected = scoped.slice(0, opts.limit ?? scoped.length);
  const outcomes = selected.map((row, i) => runRow(row, i, world, opts.seed, opts.noise));

  const falseInOutageRuns = summarizeFalse(outcomes.flatMap((o) => o.others.map((ep) => describeEpisode(ep, o.row))));

  const quietTo = QUIET_START + opts.quietDays * DAY_MS;
  const quietResults = generateResults({ world, from: QUIET_START, to: quietTo, blackouts: [], seed: subSeed(opts.seed, 'quiet'), ...(opts.noise ? { noise: opts.noise } : {}) });
  const quietEpisodes = episodes(replay(quietResults, detectorOptions(world), quietTo));
  const quietEvents = summarizeFalse(quietEpisodes.map((ep) => describeEpisode(ep, null)));

  const throughput: Throughput[] = [];
  if (opts.throughput) {
    throughput.push(measure(`${opts.quietDays} quiet days, 1 country`, quietResults, world, QUIET_START, quietTo, opts.throughput.runs));
  }
  const quietCount = quietResults.length;
  // The quiet stream is large; let it go before the throughput world is generated.
  quietResults.length = 0;
  if (opts.throughput) throughput.push(throughputWorld(opts.seed, opts.throughput, opts.noise));

  const world0 = world.countries[0] as string;
  return {
    seed: opts.seed,
    csv: {
      total: opts.rows.length,
      country: opts.rows.filter((r) => r.scope === 'country').length,
      as: opts.rows.filter((r) => r.scope === 'as').length,
      regionSkipped: opts.rows.filter((r) => r.scope === 'region').length,
      limitedOut: scoped.length - selected.length,
    },
    world: {
      country: world0,
      targets: world.targets.filter((t) => t.role !== 'control').length,
      asns: world.asns.get(world0) ?? [],
      controls: world.targets.filter((t) => t.role === 'control').length,
    },
    scopes: (['country', 'as'] as const).map((scope) => summarizeScope(scope, outcomes.filter((o) => o.row.scope === scope))),
    falseInOutageRuns,
    quiet: {
      days: opts.quietDays,
      results: quietCount,
      opened: quietEpisodes.length,
      per30Days: opts.quietDays > 0 ? (quietEpisodes.length * 30) / opts.quietDays : 0,
      events: quietEvents,
    },
    throughput,
  };
}

function summarizeScope(scope: 'country' | 'as', outcomes: readonly RowOutcome[]): ScopeSummary {
  const s = (v: number | null): number | null => (v === null ? null : v / 1000);
  const detected = outcomes.filter((o) => o.match !== null);
  return {
    scope,
    rows: outcomes.length,
    detected: detected.length,
    recall: outcomes.length === 0 ? null : detected.length / outcomes.length,
    onset: dist(outcomes.map((o) => s(onsetDelay(o)))),
    startError: dist(outcomes.map((o) => s(startError(o)))),
    durationError: dist(outcomes.map((o) => s(durationError(o)))),
    unclosed: detected.filter((o) => o.match?.endedAt === null).length,
    missed: outcomes
      .filter((o) => o.match === null)
      .slice(0, 10)
      .map((o) => describeMiss(o)),
  };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const rel = (ms: number, base: number): string => `${ms >= base ? '+' : ''}${Math.round((ms - base) / 1000)}s`;

function describeEpisode(ep: Episode, row: OutageRow | null): { kind: string; text: string } {
  const scope = `${ep.kind} ${ep.country ?? '-'}${ep.asn !== null ? ` AS${ep.asn}` : ''}${ep.category !== null ? ` ${ep.category}` : ''}`;
  if (!row) {
    const end = ep.endedAt === null ? 'still open' : `ended ${iso(ep.endedAt)}`;
    return { kind: ep.kind, text: `${scope}: opened ${iso(ep.openedAt)}, started_at ${iso(ep.startedAt)}, ${end}` };
  }
  const end = ep.endedAt === null ? 'never closed' : `ended_at ${rel(ep.endedAt, row.begin)}`;
  return {
    kind: ep.kind,
    text: `row ${row.id} (${row.scope}, ${iso(row.begin)}, ${Math.round((row.end - row.begin) / 60_000)} min): ${scope} opened ${rel(ep.openedAt, row.begin)} after begin, started_at ${rel(ep.startedAt, row.begin)}, ${end}`,
  };
}

function describeMiss(o: RowOutcome): string {
  const exp = `${o.expected.kind} ${o.expected.country}${o.expected.asn !== null ? ` AS${o.expected.asn}` : ''}`;
  const got = o.others.length === 0 ? 'no event' : o.others.map((ep) => describeEpisode(ep, o.row).text.replace(/^row \S+ \([^)]*\): /, '')).join('; ');
  return `row ${o.row.id} (${o.row.scope}, ${iso(o.row.begin)}, ${Math.round((o.row.end - o.row.begin) / 60_000)} min): expected ${exp}; got ${got}`;
}

function summarizeFalse(items: readonly { kind: string; text: string }[]): FalseEvents {
  const byKind: Record<string, number> = {};
  for (const it of items) byKind[it.kind] = (byKind[it.kind] ?? 0) + 1;
  return { count: items.length, byKind, examples: items.slice(0, 10).map((it) => it.text) };
}

/** Median wall time of `runs` replay() calls over a pre-generated array; generation is not timed. */
function measure(label: string, results: readonly ProbeResult[], world: World, from: number, to: number, runs: number): Throughput {
  const opts = detectorOptions(world);
  const times: number[] = [];
  for (let i = 0; i < Math.max(1, runs); i++) {
    const t0 = performance.now();
    replay(results, opts, to);
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const seconds = times[(times.length - 1) >> 1] as number;
  return {
    label,
    targets: world.targets.length,
    results: results.length,
    spanMs: to - from,
    seconds,
    resultsPerSecond: results.length / seconds,
    runs: times.length,
  };
}

/** Many countries, each with one country- or AS-scoped outage of 1-3 h at a random time. */
function throughputWorld(seed: number, spec: { countries: number; days: number; runs: number }, noise?: Noise): Throughput {
  if (spec.countries < 1 || spec.countries > THROUGHPUT_COUNTRIES.length) throw new Error(`throughput world: 1 to ${THROUGHPUT_COUNTRIES.length} countries`);
  const world = buildWorld({ seed, countries: THROUGHPUT_COUNTRIES.slice(0, spec.countries) });
  const rng = mulberry32(subSeed(seed, 'throughput'));
  const from = QUIET_START;
  const to = from + spec.days * DAY_MS;
  const blackouts: Blackout[] = world.countries.map((country, i) => {
    const start = from + Math.floor(rng.uniform(PAD_MS, Math.max(PAD_MS, to - from - 2 * PAD_MS)));
    const asns = world.asns.get(country) as number[];
    return { country, asn: i % 2 === 0 ? null : (asns[i % asns.length] as number), from: start, to: start + rng.int(60, 180) * 60_000 };
  });
  const results = generateResults({ world, from, to, blackouts, seed: subSeed(seed, 'throughput-results'), ...(noise ? { noise } : {}) });
  return measure(`${spec.countries} countries x ${spec.days} days`, results, world, from, to, spec.runs);
}
