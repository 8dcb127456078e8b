#!/usr/bin/env node
/**
 * What remote write costs the probe path (issue 12 goal: < 5% CPU), measured as an A/B over the
 * same time span:
 *
 *   scripts/netns-run.sh node bench/remote-write/probe-path.mjs [--kind http] [--targets 200]
 *       [--rate 100] [--warmup 60] [--window 30] [--windows 6] [--passes 2] [--control]
 *       [--lookout DIR] [--json FILE]
 *
 * Inside a private loopback-only network namespace (refuses to run elsewhere). Two daemons of the
 * same build probe the same N loopback targets (bench/probe-cost/servers.mjs) at the same rate at
 * once: "on" with remote_write to a loopback sink in this process (every sample queued, fsynced
 * each second and sent), "off" without. After a warm-up, --windows consecutive windows each read
 * both daemons' CPU (utime+stime, /proc) and completed probes (their /metrics, read outside the
 * CPU readings). The cost is the ratio of CPU per probe, on / off, per window and pooled over all
 * windows. Because both daemons run over the same windows, the machine's drift (one-after-the-
 * other runs of one build differ by 20-40% on a shared VM) cancels out of the ratio. Each pass
 * after the first restarts both with their ports and start order swapped, so that neither side
 * keeps an advantage of position. --control runs both without remote write: the same figures
 * then show the noise floor of the method (its ratio should be 1).
 * Prints one table; --json also writes the figures.
 */
import process from 'node:process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { start, stop, waitForLine, killAll } from '../common/children.mjs';
import { boundRun, describeLookout, lookoutRoot, machineInfo, ROOT, runBenchmark } from '../common/cli.mjs';
import { refuseOutsideNetns } from '../common/netns-guard.mjs';
import { cpuTimes } from '../common/proc.mjs';
import { MAX_TARGETS } from '../common/targets.mjs';
import { fmt, table } from '../common/text-table.mjs';
import { lookoutCounts, startLookout, writeLookoutConfig } from '../probe-cost/lookout.mjs';
import { startSink } from './sink.mjs';

const KINDS = ['http', 'tcp', 'dns'];
const PORTS = ['127.0.0.1:19464', '127.0.0.1:19465'];

function options(argv) {
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
  const o = {
    kind: values.kind,
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
  if (!KINDS.includes(o.kind)) throw new Error(`--kind must be one of ${KINDS.join(', ')}`);
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > MAX_TARGETS) throw new Error(`--targets must be an integer 1..${MAX_TARGETS}`);
  if (!(o.rate > 0)) throw new Error('--rate must be a positive number of probes per second');
  if (!(o.warmup >= 0)) throw new Error('--warmup must be >= 0');
  if (!(o.window > 0)) throw new Error('--window must be positive');
  for (const k of ['windows', 'passes']) if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`--${k} must be a positive integer`);
  return o;
}

/** Starts the two daemons of one pass (ports and start order swapped on odd passes). */
async function startPair(dir, pass, o, sinkUrl) {
  const sides = ['off', 'on'];
  if (pass % 2 === 1) sides.reverse();
  const started = [];
  try {
    for (const [i, side] of sides.entries()) {
      const listen = PORTS[i];
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
async function measureWindow(pair, windowMs, sink) {
  const c0 = await Promise.all(pair.map((s) => s.counts()));
  const s0 = sink.counts();
  const cpu0 = pair.map((s) => cpuTimes(s.child.proc.pid));
  const t0 = performance.now();
  await sleep(windowMs);
  const cpu1 = pair.map((s) => cpuTimes(s.child.proc.pid));
  const t1 = performance.now();
  const s1 = sink.counts();
  const c1 = await Promise.all(pair.map((s) => s.counts()));
  const bySide = {};
  for (const [i, s] of pair.entries()) {
    const probes = c1[i].probes - c0[i].probes;
    const user = cpu1[i].user - cpu0[i].user;
    const system = cpu1[i].system - cpu0[i].system;
    const cpu = user + system;
    bySide[s.side] = { probes, failed: c1[i].failed - c0[i].failed, cpuSeconds: cpu, userSeconds: user, systemSeconds: system, cpuMsPerProbe: (cpu * 1000) / probes };
  }
  const seconds = (t1 - t0) / 1000;
  return {
    seconds,
    off: bySide.off,
    on: bySide.on,
    ratio: bySide.on.cpuMsPerProbe / bySide.off.cpuMsPerProbe,
    sinkRequestsPerSecond: (s1.requests - s0.requests) / seconds,
    sinkKiBPerSecond: (s1.bytes - s0.bytes) / 1024 / seconds,
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summarize(windows) {
  const sum = (side, k) => windows.reduce((a, w) => a + w[side][k], 0);
  const perProbe = (side) => (sum(side, 'cpuSeconds') * 1000) / sum(side, 'probes');
  const ratios = windows.map((w) => w.ratio);
  const split = (side, k) => (sum(side, k) * 1000) / sum(side, 'probes');
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

function pct(ratio) {
  return `${ratio >= 1 ? '+' : ''}${fmt((ratio - 1) * 100, 1)}%`;
}

function report(info, o, windows, summary, command) {
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

async function main(argv) {
  const o = options(argv);
  await refuseOutsideNetns(ROOT);
  const info = machineInfo({ lookout: describeLookout(o.lookout) });
  const clearBound = boundRun('probe-path', (o.passes * (60 + o.warmup + o.windows * (o.window + 5)) + 60) * 1000);
  const dir = mkdtempSync(join(tmpdir(), 'lookout-probe-path-'));
  const servers = start('servers', process.execPath, [join(ROOT, 'bench/probe-cost/servers.mjs'), String(o.n)], { cwd: ROOT });
  const sink = await startSink();
  try {
    await waitForLine(servers, /^ready$/m, 20_000);
    const windows = [];
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
    const command = `scripts/netns-run.sh node bench/remote-write/probe-path.mjs ${argv.join(' ')}`.trim();
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
