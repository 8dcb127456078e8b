#!/usr/bin/env node
/**
 * What remote write costs the probe path (issue 12 goal: < 5% CPU), measured as an A/B over the
 * same time span:
 *
 *   scripts/netns-run.sh node .bench-build/bench/remote-write/probe-path.js [--kind http] [--targets 200]
 *       [--rate 100] [--warmup 60] [--window 30] [--windows 6] [--passes 2] [--control]
 *       [--lookout DIR] [--json FILE]
 *
 * Inside a private loopback-only network namespace (refuses to run elsewhere). Two daemons of the
 * same build probe the same N loopback targets (bench/probe-cost/servers.ts) at the same rate at
 * once: "on" with remote_write to a loopback sink in this process (every sample queued, fsynced
 * each second and sent), "off" without. After a warm-up, --windows consecutive windows each read
 * both daemons' CPU (utime+stime, /proc) and completed probes (their /metrics, read outside the
 * CPU readings). The cost is the ratio of CPU per probe, on / off, per window and pooled over all
 * windows. Because both daemons run over the same windows, the machine's drift (one-after-the-
 * other runs of one build differ by 20-40% on a shared VM) cancels out of the ratio. Each pass
 * after the first restarts both with their ports and start order swapped, so that neither side
 * keeps an advantage of position. --control runs both without remote write: the same figures
 * then show the noise floor of the method (its ratio should be 1).
 * Prints one table; --json also writes the figures. Needs dist/ (npm run build) and the compiled
 * benchmarks (npm run build:bench).
 */
import process from 'node:process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { start, stop, waitForLine, killAll, pidOf, type Child } from '../common/children.js';
import { boundRun, commandLine, describeLookout, isOneOf, lookoutRoot, machineInfo, ROOT, runBenchmark, type MachineInfo } from '../common/cli.js';
import { refuseOutsideNetns } from '../common/netns-guard.js';
import { cpuTimes } from '../common/proc.js';
import { median } from '../common/stats.js';
import { MAX_TARGETS } from '../common/targets.js';
import { fmt, table } from '../common/text-table.js';
import { lookoutCounts, startLookout, writeLookoutConfig, type ProbeCounts } from '../probe-cost/lookout.js';
import { startSink, type Sink } from './sink.js';

const KINDS = ['http', 'tcp', 'dns'] as const;
const PORTS = ['127.0.0.1:19464', '127.0.0.1:19465'] as const;
type SideName = 'off' | 'on';

interface Options {
  kind: (typeof KINDS)[number];
  n: number;
  rate: number;
  warmup: number;
  window: number;
  windows: number;
  passes: number;
  control: boolean;
  lookout: string;
  json: string | undefined;
}

/** One daemon of a pass. */
interface Side {
  side: SideName;
  listen: string;
  child: Child;
  counts: () => Promise<ProbeCounts>;
}

/** One daemon's figures over a window. */
interface SideFigures {
  probes: number;
  failed: number;
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  cpuMsPerProbe: number;
}

/** One window over both daemons. */
interface Window {
  seconds: number;
  off: SideFigures;
  on: SideFigures;
  ratio: number;
  sinkRequestsPerSecond: number;
  sinkKiBPerSecond: number;
}

/** A window as the report lists it: which pass, which window of it. */
type NumberedWindow = Window & { pass: number; index: number };

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      kind: { type: 'string', default: 'http' },
      targets: { type: 'string', default: '200' },
      rate: { type: 'string', default: '100' },
      warmup: { type: 'string', default: '60' },
      window: { type: 'string', default: '30' },
      windows: { type: 'string', default: '6' },
      passes: { type: 'string', default: '2' },
      control: { type: 'boolean', default: false },
      lookout: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const kind = values.kind;
  if (!isOneOf(KINDS, kind)) throw new Error(`--kind must be one of ${KINDS.join(', ')}`);
  const o: Options = {
    kind,
    n: Number(values.targets),
    rate: Number(values.rate),
    warmup: Number(values.warmup),
    window: Number(values.window),
    windows: Number(values.windows),
    passes: Number(values.passes),
    control: values.control,
    lookout: lookoutRoot(values.lookout),
    json: values.json,
  };
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > MAX_TARGETS) throw new Error(`--targets must be an integer 1..${MAX_TARGETS}`);
  if (!(o.rate > 0)) throw new Error('--rate must be a positive number of probes per second');
  if (!(o.warmup >= 0)) throw new Error('--warmup must be >= 0');
  if (!(o.window > 0)) throw new Error('--window must be positive');
  for (const k of ['windows', 'passes'] as const) if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`--${k} must be a positive integer`);
  return o;
}

/** Starts the two daemons of one pass (ports and start order swapped on odd passes). */
async function startPair(dir: string, pass: number, o: Options, sinkUrl: string): Promise<Side[]> {
  const sides: SideName[] = ['off', 'on'];
  if (pass % 2 === 1) sides.reverse();
  const started: Side[] = [];
  try {
    for (const [i, side] of sides.entries()) {
      const listen = PORTS[i] as string;
      const name = `${side}-${pass}`;
      const url = side === 'on' && !o.control ? sinkUrl : undefined;
      const { path } = writeLookoutConfig(dir, o.kind, o.n, o.rate, url, { listen, name });
      const child = await startLookout(o.lookout, path, o.kind, { listen });
      started.push({ side, listen, child, counts: () => lookoutCounts(o.kind, listen) });
    }
  } catch (err) {
    for (const s of started) await stop(s.child);
    throw err;
  }
  return started;
}

/** One window over both daemons: counters outside the CPU readings, so reading them is not counted. */
async function measureWindow(pair: readonly Side[], windowMs: number, sink: Sink): Promise<Window> {
  const c0 = await Promise.all(pair.map((s) => s.counts()));
  const s0 = sink.counts();
  const cpu0 = pair.map((s) => cpuTimes(pidOf(s.child)));
  const t0 = performance.now();
  await sleep(windowMs);
  const cpu1 = pair.map((s) => cpuTimes(pidOf(s.child)));
  const t1 = performance.now();
  const s1 = sink.counts();
  const c1 = await Promise.all(pair.map((s) => s.counts()));
  const bySide: Partial<Record<SideName, SideFigures>> = {};
  for (const [i, s] of pair.entries()) {
    const [a, b, u0, u1] = [c0[i], c1[i], cpu0[i], cpu1[i]];
    if (!a || !b || !u0 || !u1) throw new Error(`no reading of the ${s.side} daemon`);
    const probes = b.probes - a.probes;
    const user = u1.user - u0.user;
    const system = u1.system - u0.system;
    const cpu = user + system;
    bySide[s.side] = { probes, failed: b.failed - a.failed, cpuSeconds: cpu, userSeconds: user, systemSeconds: system, cpuMsPerProbe: (cpu * 1000) / probes };
  }
  const seconds = (t1 - t0) / 1000;
  const { off, on } = bySide;
  if (!off || !on) throw new Error('a window needs both daemons');
  return {
    seconds,
    off,
    on,
    ratio: on.cpuMsPerProbe / off.cpuMsPerProbe,
    sinkRequestsPerSecond: (s1.requests - s0.requests) / seconds,
    sinkKiBPerSecond: (s1.bytes - s0.bytes) / 1024 / seconds,
  };
}

type Summary = ReturnType<typeof summarize>;

function summarize(windows: readonly Window[]) {
  const sum = (side: SideName, k: keyof SideFigures): number => windows.reduce((a, w) => a + w[side][k], 0);
  const perProbe = (side: SideName): number => (sum(side, 'cpuSeconds') * 1000) / sum(side, 'probes');
  const ratios = windows.map((w) => w.ratio);
  const split = (side: SideName, k: keyof SideFigures): number => (sum(side, k) * 1000) / sum(side, 'probes');
  return {
    offUserMsPerProbe: split('off', 'userSeconds'),
    offSystemMsPerProbe: split('off', 'systemSeconds'),
    onUserMsPerProbe: split('on', 'userSeconds'),
    onSystemMsPerProbe: split('on', 'systemSeconds'),
    offMsPerProbe: perProbe('off'),
    onMsPerProbe: perProbe('on'),
    pooledRatio: perProbe('on') / perProbe('off'),
    medianRatio: median(ratios),
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
    failed: sum('off', 'failed') + sum('on', 'failed'),
  };
}

function pct(ratio: number): string {
  return `${ratio >= 1 ? '+' : ''}${fmt((ratio - 1) * 100, 1)}%`;
}

function report(info: MachineInfo & { lookout: string }, o: Options, windows: readonly NumberedWindow[], summary: Summary, command: string): string {
  const lines = [
    'Remote write, cost on the probe path: two daemons at once, remote_write on vs off',
    `machine: nproc ${info.nproc}, ${info.cpu}, node ${info.node}, kernel ${info.kernel}, CLK_TCK ${info.clkTck}`,
    `lookout: ${info.lookout}`,
    `kind ${o.kind}, targets ${o.n}, rate ${o.rate}/s per daemon, warm-up ${o.warmup} s, ${o.passes} pass(es) of ${o.windows} window(s) of ${o.window} s${o.control ? ', CONTROL: both daemons without remote write' : ''}`,
    `command: ${command}`,
    '',
    table(
      ['pass', 'window', 'off probes', 'off CPU s', 'off ms/probe', 'on probes', 'on CPU s', 'on ms/probe', 'on/off', 'sink req/s', 'sink KiB/s'],
      windows.map((w) => [
        String(w.pass),
        String(w.index),
        String(w.off.probes),
        fmt(w.off.cpuSeconds, 2),
        fmt(w.off.cpuMsPerProbe, 3),
        String(w.on.probes),
        fmt(w.on.cpuSeconds, 2),
        fmt(w.on.cpuMsPerProbe, 3),
        pct(w.ratio),
        fmt(w.sinkRequestsPerSecond, 2),
        fmt(w.sinkKiBPerSecond, 1),
      ]),
    ),
    '',
    `pooled: off ${fmt(summary.offMsPerProbe, 3)} ms/probe, on ${fmt(summary.onMsPerProbe, 3)} ms/probe: ${pct(summary.pooledRatio)}`,
    `  user: off ${fmt(summary.offUserMsPerProbe, 3)}, on ${fmt(summary.onUserMsPerProbe, 3)} ms/probe; system: off ${fmt(summary.offSystemMsPerProbe, 3)}, on ${fmt(summary.onSystemMsPerProbe, 3)} ms/probe`,
    `per window: median ${pct(summary.medianRatio)}, range ${pct(summary.minRatio)} to ${pct(summary.maxRatio)}; failed probes ${summary.failed}`,
    '',
  ];
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  await refuseOutsideNetns(ROOT);
  const info = machineInfo({ lookout: describeLookout(o.lookout) });
  const clearBound = boundRun('probe-path', (o.passes * (60 + o.warmup + o.windows * (o.window + 5)) + 60) * 1000);
  const dir = mkdtempSync(join(tmpdir(), 'lookout-probe-path-'));
  const servers = start('servers', process.execPath, [join(import.meta.dirname, '../probe-cost/servers.js'), String(o.n)], { cwd: ROOT });
  const sink = await startSink();
  try {
    await waitForLine(servers, /^ready$/m, 20_000);
    const windows: NumberedWindow[] = [];
    for (let pass = 0; pass < o.passes; pass++) {
      const pair = await startPair(dir, pass, o, sink.url);
      try {
        await sleep(o.warmup * 1000);
        for (let i = 0; i < o.windows; i++) windows.push({ pass: pass + 1, index: i + 1, ...(await measureWindow(pair, o.window * 1000, sink)) });
      } finally {
        for (const s of pair) await stop(s.child);
      }
    }
    const summary = summarize(windows);
    const command = commandLine(argv, 'scripts/netns-run.sh ');
    process.stdout.write(report(info, o, windows, summary, command));
    if (o.json) writeFileSync(o.json, JSON.stringify({ machine: info, options: o, command, windows, summary }, null, 2));
  } finally {
    await stop(servers);
    await sink.close();
    killAll();
    rmSync(dir, { recursive: true, force: true });
    clearBound();
  }
}

runBenchmark('probe-path', main);
