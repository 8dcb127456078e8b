/**
 * The plain-text report of the soak benchmark: the machine, the run's parameters, one row per
 * sample, the request counts, and the goals checked against the rows.
 */
import type { MachineInfo } from '../common/cli.js';
import { fmt, table } from '../common/text-table.js';
import type { Roles } from './plan.js';

/** The figures of one sample (the period since the previous one). */
export interface SoakRow {
  minute: number;
  cpuShare: number;
  load1: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  loopP99: number;
  idleP99: number;
  schedP99: number;
  probesPerS: number;
  failedPerS: number;
  skipped: number;
  reloads: number;
  reloadFailures: number;
  pollFailures: number;
  openEvents: number;
}

/** The requests the benchmark made of the daemon, and how many failed. */
export interface SoakCounts {
  reloads: number;
  reloadFailures: number;
  polls: number;
  pollFailures: number;
  scrapes: number;
  scrapeFailures: number;
}

/** What one soak run found. */
export interface SoakResult {
  rows: SoakRow[];
  startupS: number;
  counts: SoakCounts;
  peakRssMb: number;
}

/** What the report says about the run. */
export interface SoakRun {
  targets: number;
  interval: number;
  minutes: number;
  reloadEvery: number;
  sampleEvery: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Growth of `field` after warm-up: the mean of the last three rows over the mean of the three
 * rows from the end of warm-up (the first quarter of the run, at least one row), minus one.
 */
export function growthAfterWarmup(rows: readonly SoakRow[], field: 'rssMb' | 'fds'): { growth: number; from: number; to: number; fromMinute: number } {
  const warm = Math.min(rows.length - 1, Math.max(0, Math.round(rows.length / 4) - 1));
  const from = rows.slice(warm, warm + 3).map((r) => r[field]);
  const to = rows.slice(-3).map((r) => r[field]);
  return { growth: mean(to) / mean(from) - 1, from: mean(from), to: mean(to), fromMinute: rows[warm]?.minute ?? NaN };
}

function goals(rows: readonly SoakRow[]): string[] {
  const last = rows.at(-1)?.minute;
  if (last === undefined) return ['  [not met] no sample was taken'];
  const rss = growthAfterWarmup(rows, 'rssMb');
  const fds = growthAfterWarmup(rows, 'fds');
  const worstLoop = Math.max(...rows.map((r) => r.loopP99));
  const span = `minute ${fmt(rss.fromMinute, 0)} to ${fmt(last, 0)}`;
  const checks: [boolean, string][] = [
    [rss.growth < 0.05, `RSS flat after warm-up (growth under 5%), ${span}: ${fmt(rss.from, 1)} -> ${fmt(rss.to, 1)} MB, ${fmt(rss.growth * 100, 1)}%`],
    [fds.growth < 0.05, `open descriptors flat after warm-up (growth under 5%), ${span}: ${fmt(fds.from, 1)} -> ${fmt(fds.to, 1)}, ${fmt(fds.growth * 100, 1)}%`],
    [worstLoop < 0.05, `event-loop lag p99 under 50 ms in every period: worst ${fmt(worstLoop * 1000, 1)} ms`],
  ];
  return checks.map(([ok, text]) => `  [${ok ? 'met' : 'not met'}] ${text}`);
}

export function formatReport(info: MachineInfo & { lookout: string }, o: SoakRun, roles: Roles, result: SoakResult, command: string): string {
  const { rows, counts } = result;
  const main = table(
    ['minute', 'CPU %', 'load 1m', 'RSS MB', 'heap MB', 'fds', 'loop p99 ms', 'idle p99 ms', 'sched p99 ms', 'probes/s', 'failed/s', 'skipped', 'reloads', 'open events'],
    rows.map((r) => [
      fmt(r.minute, r.minute % 1 === 0 ? 0 : 2),
      fmt(r.cpuShare * 100, 1),
      fmt(r.load1, 2),
      fmt(r.rssMb, 1),
      fmt(r.heapMb, 1),
      String(r.fds),
      fmt(r.loopP99 * 1000, 1),
      fmt(r.idleP99 * 1000, 1),
      fmt(r.schedP99 * 1000, 1),
      fmt(r.probesPerS, 1),
      fmt(r.failedPerS, 1),
      String(r.skipped),
      String(r.reloads),
      String(r.openEvents),
    ]),
  );
  return [
    'Soak: the daemon under steady load, hostile and flapping targets, reloads and polling',
    `machine: nproc ${info.nproc}, ${info.cpu}, node ${info.node}, kernel ${info.kernel}`,
    `lookout: ${info.lookout}`,
    `${o.targets} targets (${roles.healthy} healthy, ${roles.hostile} hostile, ${roles.flapping} flapping) at ${o.interval} s for ${o.minutes} min; ` +
      `reload every ${o.reloadEvery} s (+/- ${10} targets), API polled every 5 s, /metrics every 15 s, sampled every ${o.sampleEvery} s`,
    `command: ${command}`,
    `start-up ${fmt(result.startupS, 1)} s, peak RSS (VmHWM) ${fmt(result.peakRssMb, 1)} MB`,
    '',
    main,
    '',
    `requests: ${counts.reloads} reloads ok, ${counts.reloadFailures} failed; ${counts.polls} API polls ok, ${counts.pollFailures} failed; ` +
      `${counts.scrapes} scrapes ok, ${counts.scrapeFailures} failed`,
    'CPU % is the daemon\'s utime+stime over the period as a share of one core; load 1m is the machine\'s',
    'load average (other processes compete for the same cores); loop p99 is the worst',
    'nodejs_eventloop_lag_p99_seconds of the period\'s scrapes; idle p99 is the worst per-second p99',
    'loop delay of an idle Node process beside it (bench/soak/idle-loop.ts), what CPU contention alone',
    'costs; sched p99 is interpolated from the lookout_scheduler_lag_seconds buckets over the period;',
    'skipped counts probes skipped because the previous one of the target still ran.',
    '',
    'Goals:',
    ...goals(rows),
    '',
  ].join('\n');
}
