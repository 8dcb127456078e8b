#!/usr/bin/env node
/**
 * Per-probe CPU cost, Lookout vs Prometheus blackbox_exporter, measured side by side (issue 6).
 *
 *   npm run bench:probe-cost -- [--targets N] [--rate R] [--seconds S]
 *       [--warmup S] [--kinds http,tcp,dns,dot,doh,icmp] [--probers lookout,blackbox] [--together]
 *       [--cpu-prof DIR] [--json FILE] [--lookout DIR] [--remote-write] [--poll-page]
 *
 * Inside a private loopback-only network namespace (refuses to run elsewhere): a separate
 * process serves N distinct targets (127.20.a.b, HTTP :8080, DNS :5353, DoT :853, DoH :8443;
 * the kernel answers icmp echo). Kinds: http, tcp, dns (the default set), dot, doh and icmp
 * (only on request; blackbox_exporter has no DoH prober, so doh is measured for Lookout alone;
 * an icmp-only run starts no target servers). For each kind, first
 * Lookout (dist/main.js; run `npm run build` first) probes the N targets every N/R seconds, then
 * blackbox_exporter is driven with /probe?target=&module= for the same targets at the same rate.
 * Each prober runs alone, or with --together both run at once and are measured over the same
 * window (on a shared machine whose speed drifts from minute to minute, that keeps the ratio
 * fair). A prober's CPU (utime+stime from /proc/<pid>/stat, plus that of its children it reaped:
 * the fping runs of Lookout's icmp prober) and completed probes are read over
 * a steady window after a warm-up (default 60 s: see options()). Prints one table; --json also
 * writes the figures.
 * --probers runs only the named side(s); --cpu-prof DIR runs Lookout under node --cpu-prof and
 * leaves one .cpuprofile per kind in DIR (read it with bench/profile/summarize.ts). The
 * profiler itself costs CPU: figures from a profiled run are not comparable with others.
 * --lookout DIR measures the built checkout in DIR instead of this one (before/after a change:
 * `git worktree add /tmp/before <commit>`, `npm ci && npm run build` there).
 * --remote-write turns Lookout's remote_write on, pointed at a loopback sink in this process that
 * answers 204 to every request: the probe path then also queues (and fsyncs, and sends) every
 * sample. Compare a run with it against one without (issue 12: queueing costs < 5% CPU).
 * --poll-page measures what watching the daemon costs its probes (issue 24 goal: a scrape, the
 * page and the API together add at most 1%): two Lookout daemons of the same build probe the
 * same targets at once over the same window, one left alone ("lookout"), the other fetched every
 * second at `/`, `/api/v1/status`, `/api/v1/series` and `/metrics` ("lookout+page"); the report
 * gives both per-probe costs and the difference in %. blackbox_exporter is not run then.
 */
import process from 'node:process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { blackboxVersion, driveBlackbox, MODULES, startBlackbox } from './blackbox.js';
import { killAll, pidOf, start, stop, waitForLine } from '../common/children.js';
import { boundRun, commandLine, describeLookout, isOneOf, lookoutRoot, machineInfo, ROOT, runBenchmark } from '../common/cli.js';
import { refuseOutsideNetns } from '../common/netns-guard.js';
import { MAX_TARGETS, type BenchKind } from '../common/targets.js';
import { LOOKOUT_LISTEN, lookoutCounts, startLookout, writeLookoutConfig, type ProbeCounts } from './lookout.js';
import { formatTable, type ProbeCostRow, type ProbeCostRun } from './table.js';
import { startSink } from '../remote-write/sink.js';
import { measureWindow } from './window.js';
import { pollPage, type PagePoller } from './page-poller.js';

const KINDS: readonly BenchKind[] = ['http', 'tcp', 'dns', 'dot', 'doh', 'icmp'];
const DEFAULT_KINDS: readonly BenchKind[] = ['http', 'tcp', 'dns'];
const PROBERS = ['lookout', 'blackbox'] as const;
type ProberName = (typeof PROBERS)[number];
/** Where the polled daemon of --poll-page listens (the other one keeps LOOKOUT_LISTEN). */
const POLLED_LISTEN = '127.0.0.1:19465';

interface Options extends ProbeCostRun {
  kinds: BenchKind[];
  probers: ProberName[];
  cpuProf: string | undefined;
  json: string | undefined;
  lookout: string;
  /** The loopback remote write sink's URL, once it is started (--remote-write). */
  sinkUrl?: string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      targets: { type: 'string', default: '200' },
      rate: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '30' },
      warmup: { type: 'string' },
      kinds: { type: 'string', default: DEFAULT_KINDS.join(',') },
      json: { type: 'string' },
      probers: { type: 'string', default: PROBERS.join(',') },
      'cpu-prof': { type: 'string' },
      together: { type: 'boolean', default: false },
      lookout: { type: 'string' },
      'remote-write': { type: 'boolean', default: false },
      'poll-page': { type: 'boolean', default: false },
    },
  });
  const n = Number(values.targets);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const kinds: BenchKind[] = [];
  for (const k of values.kinds.split(',').filter((k) => k !== '')) {
    if (!isOneOf(KINDS, k)) throw new Error(`--kinds: unknown kind ${k} (use ${KINDS.join(',')})`);
    kinds.push(k);
  }
  if (!Number.isInteger(n) || n < 1 || n > MAX_TARGETS) throw new Error(`--targets must be an integer 1..${MAX_TARGETS}`);
  if (!(rate > 0)) throw new Error('--rate must be a positive number of probes per second');
  if (!(seconds > 0)) throw new Error('--seconds must be positive');
  if (kinds.length === 0) throw new Error('--kinds is empty');
  const probers: ProberName[] = [];
  for (const p of values.probers.split(',').filter((p) => p !== '')) {
    if (!isOneOf(PROBERS, p)) throw new Error(`--probers: unknown prober ${p} (use ${PROBERS.join(',')})`);
    probers.push(p);
  }
  if (probers.length === 0) throw new Error('--probers is empty');
  // Default warm-up: 60 s (and at least two full rounds of the targets). Node compiles the hot
  // path with its optimising JIT on a background thread while the daemon warms up; at 100
  // probes/s that takes most of a minute, and a shorter warm-up adds that one-time cost to the
  // per-probe figure of a daemon that runs for days. blackbox_exporter gets the same warm-up.
  const warmup = values.warmup !== undefined ? Number(values.warmup) : Math.max(60, (2 * n) / rate);
  if (!(warmup >= 0)) throw new Error('--warmup must be >= 0');
  const cpuProf = values['cpu-prof'] !== undefined ? resolve(values['cpu-prof']) : undefined;
  const pollPage = values['poll-page'];
  return { n, rate, seconds, warmup, kinds, probers, together: values.together || pollPage, cpuProf, json: values.json, lookout: lookoutRoot(values.lookout), remoteWrite: values['remote-write'], pollPage };
}

/** One prober running on one kind, ready to be measured. */
interface Side {
  prober: ProbeCostRow['prober'];
  intervalMs: number;
  pid: number;
  counts: () => Promise<ProbeCounts>;
  extra: () => Promise<Pick<ProbeCostRow, 'skipped' | 'polls'>>;
  stop: () => Promise<void>;
}

/**
 * Starts a Lookout daemon for `kind`; with `polled`, on its own port and data dir, fetched every
 * second at the page, the APIs and /metrics from the moment it probes (--poll-page).
 */
async function startLookoutSide(dir: string, kind: BenchKind, o: Options, polled: boolean): Promise<Side> {
  const listen = polled ? POLLED_LISTEN : LOOKOUT_LISTEN;
  const name = polled ? `${kind}-page` : kind;
  const { path, intervalMs } = writeLookoutConfig(dir, kind, o.n, o.rate, o.sinkUrl, { listen, name });
  const child = await startLookout(o.lookout, path, kind, { cpuProfDir: o.cpuProf, listen, profName: `lookout-${name}` });
  const poller: PagePoller | null = polled ? pollPage(listen) : null;
  return {
    prober: polled ? 'lookout+page' : 'lookout',
    intervalMs,
    pid: pidOf(child),
    counts: () => lookoutCounts(kind, listen),
    extra: () => Promise.resolve(poller ? { polls: poller.counts() } : {}),
    stop: async () => {
      await poller?.stop();
      await stop(child);
    },
  };
}

/**
 * Starts one side for `kind`: { prober, intervalMs, pid, counts(), extra(), stop() }. Lookout is
 * the daemon on a generated config; blackbox_exporter is the exporter plus its /probe driver.
 */
async function startSide(dir: string, kind: BenchKind, prober: ProberName, o: Options): Promise<Side> {
  if (prober === 'lookout') return startLookoutSide(dir, kind, o, false);
  const child = await startBlackbox(dir);
  const driver = driveBlackbox(kind, o.n, o.rate);
  return {
    prober: 'blackbox_exporter',
    intervalMs: Math.round((o.n / o.rate) * 1000),
    pid: pidOf(child),
    counts: driver.counts,
    extra: async () => ({ skipped: (await driver.counts()).skipped }),
    stop: async () => {
      driver.stop();
      await stop(child);
    },
  };
}

/** Warm-up and window for the started sides, all over the same time span; one row each. */
async function measureSides(kind: BenchKind, sides: readonly Side[], o: Options): Promise<ProbeCostRow[]> {
  const windows = await Promise.all(
    sides.map((side) => measureWindow({ pid: side.pid, counts: side.counts, warmupMs: o.warmup * 1000, windowMs: o.seconds * 1000 })),
  );
  const rows: ProbeCostRow[] = [];
  for (const [i, side] of sides.entries()) rows.push({ kind, prober: side.prober, intervalMs: side.intervalMs, ...(await side.extra()), ...(windows[i] as (typeof windows)[number]) });
  return rows;
}

/**
 * The rows of one kind: the probers one after the other, or (--together) both at once; with
 * --poll-page, Lookout left alone and Lookout polled, at once.
 */
async function measureKind(dir: string, kind: BenchKind, o: Options): Promise<ProbeCostRow[]> {
  // A kind blackbox_exporter cannot probe (doh) is measured for Lookout alone.
  const probers = o.probers.filter((p) => p !== 'blackbox' || MODULES[kind] !== undefined);
  const groups = o.together ? [probers] : probers.map((p) => [p]);
  const starters = o.pollPage
    ? [[() => startLookoutSide(dir, kind, o, false), () => startLookoutSide(dir, kind, o, true)]]
    : groups.map((group) => group.map((prober) => () => startSide(dir, kind, prober, o)));
  const rows: ProbeCostRow[] = [];
  for (const group of starters) {
    const sides: Side[] = [];
    try {
      for (const startOne of group) sides.push(await startOne());
      rows.push(...(await measureSides(kind, sides, o)));
    } finally {
      for (const side of sides) await side.stop();
    }
  }
  return rows;
}

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  await refuseOutsideNetns(ROOT);
  const info = machineInfo({ blackbox: o.pollPage ? 'not run (--poll-page)' : blackboxVersion(), lookout: describeLookout(o.lookout) });
  // Bound the whole run: per prober start-up, warm-up, window and shutdown, plus slack.
  const boundMs = (o.kinds.length * 2 * (25 + o.warmup + o.seconds + 5) + 20) * 1000;
  const clearBound = boundRun('probe-cost', boundMs);

  const dir = mkdtempSync(join(tmpdir(), 'lookout-probe-cost-'));
  // icmp needs no servers (the kernel answers echo): an icmp-only run starts none, which also
  // keeps 10,000 targets within the open-file limit (the servers take two sockets per target).
  const needServers = o.kinds.some((k) => k !== 'icmp');
  const servers = needServers ? start('servers', process.execPath, [join(import.meta.dirname, 'servers.js'), String(o.n)], { cwd: ROOT }) : null;
  const sink = o.remoteWrite ? await startSink() : null;
  if (sink) o.sinkUrl = sink.url;
  try {
    if (servers) await waitForLine(servers, /^ready$/m, 20_000);
    const rows: ProbeCostRow[] = [];
    for (const kind of o.kinds) rows.push(...(await measureKind(dir, kind, o)));
    const command = commandLine(argv, 'scripts/netns-run.sh ');
    process.stdout.write(formatTable(info, o, rows, command));
    if (o.json) writeFileSync(o.json, JSON.stringify({ machine: info, options: o, command, rows }, null, 2));
  } finally {
    if (servers) await stop(servers);
    if (sink) await sink.close();
    killAll();
    rmSync(dir, { recursive: true, force: true });
    clearBound();
  }
}

runBenchmark('probe-cost', main);
