/**
 * The plain-text report of the scale benchmark: the machine, the run's parameters, one row per
 * size, and the goals checked against the rows that bear on them.
 */
import type { MachineInfo } from '../common/cli.js';
import { fmt, table } from '../common/text-table.js';

/** The figures of one size. */
export interface ScaleRow {
  n: number;
  intervalS: number;
  startupS: number;
  seconds: number;
  probes: number;
  expectedRate: number;
  rate: number;
  failed: number;
  skipped: number;
  cpuSeconds: number;
  cpuShare: number;
  cpuMsPerProbe: number;
  rssMb: number;
  peakRssMb: number;
  lagP50: number;
  lagP99: number;
  loopP99: number;
  scrapes: number;
  scrapeMedian: number;
  scrapeMax: number;
  metricsMb: number;
  series: number;
}

/** What the report says about the run. */
export interface ScaleRun {
  interval: number;
  warmup: number;
  intervals: number;
  scrapeEvery: number;
}

const ms = (s: number): string => fmt(s * 1000, 1);

/** The goals of issues 6 and 28 that a scale run can check, for the sizes it ran. */
function goals(rows: readonly ScaleRow[]): string[] {
  const out: [boolean, string][] = [];
  const at = (n: number): ScaleRow | undefined => rows.find((r) => r.n === n && r.intervalS === 60);
  const r10 = at(10_000);
  if (r10) {
    out.push([r10.cpuShare <= 0.1, `10,000 targets at 60 s on <= 10% of one core: ${fmt(r10.cpuShare * 100, 1)}%`]);
    out.push([r10.peakRssMb <= 250, `10,000 targets at 60 s in <= 250 MB RSS (peak): ${fmt(r10.peakRssMb, 0)} MB`]);
  }
  const r50 = at(50_000);
  if (r50) {
    out.push([r50.lagP99 < 0.02, `50,000 targets: scheduler lag p99 under 20 ms: ${ms(r50.lagP99)} ms`]);
    out.push([r50.scrapeMax < 0.5, `50,000 targets: /metrics scrape under 0.5 s (slowest of the window): ${fmt(r50.scrapeMax, 3)} s`]);
    out.push([r50.peakRssMb < 500, `50,000 targets: peak RSS (start-up included) under 500 MB: ${fmt(r50.peakRssMb, 0)} MB`]);
  }
  const g = growth(rows);
  if (g) {
    out.push([g.cpu <= 1.2, `per-probe CPU within 1.2x, ${g.from} to ${g.to}: x${fmt(g.cpu, 2)}`]);
    out.push([g.scrape <= SCRAPE_GROWTH_LIMIT, `scrape time per target does not grow, ${g.from} to ${g.to}: x${fmt(g.scrape, 2)}`]);
  }
  return out.map(([ok, text]) => `  [${ok ? 'met' : 'not met'}] ${text}`);
}

/** The guard's limits (issue 28): what the suite's two-size run may show at most. */
export const CPU_GROWTH_LIMIT = 1.3;
export const SCRAPE_GROWTH_LIMIT = 1.3;

/**
 * Per-probe CPU and median scrape time per target at the largest size over the smallest, in
 * one run (ratios only: the machine's speed and load cancel out); null with fewer than two sizes.
 */
export function growth(rows: readonly ScaleRow[]): { from: number; to: number; cpu: number; scrape: number } | null {
  const sorted = [...rows].sort((a, b) => a.n - b.n);
  const first = sorted[0];
  const last = sorted.at(-1);
  if (!first || !last || first === last) return null;
  return {
    from: first.n,
    to: last.n,
    cpu: last.cpuMsPerProbe / first.cpuMsPerProbe,
    scrape: last.scrapeMedian / last.n / (first.scrapeMedian / first.n),
  };
}

/** The guard line the suite reads: `guard: cpu xA (limit L) scrape/target xB (limit M) met|not met`. */
function guardLine(rows: readonly ScaleRow[]): string[] {
  const g = growth(rows);
  if (!g) return [];
  const ok = g.cpu <= CPU_GROWTH_LIMIT && g.scrape <= SCRAPE_GROWTH_LIMIT;
  return ['', `guard: ${g.from} to ${g.to}: per-probe CPU x${fmt(g.cpu, 2)} (limit ${CPU_GROWTH_LIMIT}), scrape time per target x${fmt(g.scrape, 2)} (limit ${SCRAPE_GROWTH_LIMIT}): ${ok ? 'met' : 'not met'}`];
}

export function formatReport(info: MachineInfo & { lookout: string }, o: ScaleRun, rows: readonly ScaleRow[], command: string): string {
  const main = table(
    ['targets', 'interval s', 'probes/s', 'of planned', 'CPU %', 'CPU ms/probe', 'RSS MB', 'peak MB', 'lag p50 ms', 'lag p99 ms', 'loop p99 ms', 'failed', 'skipped'],
    rows.map((r) => [
      String(r.n),
      String(r.intervalS),
      fmt(r.rate, 1),
      `${fmt((100 * r.rate) / r.expectedRate, 1)}%`,
      fmt(r.cpuShare * 100, 2),
      fmt(r.cpuMsPerProbe, 3),
      fmt(r.rssMb, 0),
      fmt(r.peakRssMb, 0),
      ms(r.lagP50),
      ms(r.lagP99),
      ms(r.loopP99),
      String(r.failed),
      String(r.skipped),
    ]),
  );
  const scrapes = table(
    ['targets', 'start-up s', 'samples', '/metrics MB', 'scrapes', 'scrape median s', 'scrape max s'],
    rows.map((r) => [String(r.n), fmt(r.startupS, 1), String(r.series), fmt(r.metricsMb, 2), String(r.scrapes), fmt(r.scrapeMedian, 3), fmt(r.scrapeMax, 3)]),
  );
  const g = goals(rows);
  return [
    'Scale curve: the daemon with N tcp targets',
    `machine: nproc ${info.nproc}, ${info.cpu}, node ${info.node}, kernel ${info.kernel}, CLK_TCK ${info.clkTck}`,
    `lookout: ${info.lookout}`,
    `interval ${o.interval} s, warm-up ${fmt(o.warmup, 0)} s, window ${o.intervals} interval(s) per size, /metrics scraped every ${o.scrapeEvery} s`,
    `command: ${command}`,
    '',
    main,
    '',
    scrapes,
    '',
    'CPU % is of one core over the window, scrapes included; lag p50/p99 are interpolated from the',
    'lookout_scheduler_lag_seconds buckets; loop p99 is nodejs_eventloop_lag_p99_seconds, the time',
    'between the 10 ms ticks of prom-client\'s event loop monitor (so an idle loop shows about 10 ms).',
    ...(g.length > 0 ? ['', 'Goals:', ...g] : []),
    ...guardLine(rows),
    '',
  ].join('\n');
}
