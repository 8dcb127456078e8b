#!/usr/bin/env node
/**
 * Scale curve of the daemon (issue 6): N tcp targets at a fixed interval, for several N.
 *
 *   npm run bench:scale -- [--sizes 1000,10000,50000] [--interval 60]
 *       [--intervals 2] [--warmup S] [--scrape-every 15] [--cpu-prof DIR] [--json FILE]
 *       [--lookout DIR]
 *
 * Inside a private loopback-only network namespace (refuses to run elsewhere). A separate
 * process (server.ts) accepts TCP on the namespace's wildcard address, so every target can
 * have its own loopback address (127.20.a.b) behind one cheap listener; its CPU is not counted.
 * For each N the built daemon (dist/main.js; run `npm run build` first) starts on a generated
 * config (interval --interval seconds, four controls, targets spread over 20 countries),
 * runs a warm-up (default one interval plus 10 s), then a window of --intervals intervals
 * during which /metrics is scraped every --scrape-every seconds, as Prometheus would:
 *   CPU        utime+stime of the daemon from /proc/<pid>/stat over the window, as a share of
 *              one core, and per probe (the scrapes' cost included);
 *   RSS        VmRSS at the end of the window and VmHWM (peak) from /proc/<pid>/status;
 *   lag        p50/p99 of lookout_scheduler_lag_seconds over the window, estimated from the
 *              histogram's bucket deltas by linear interpolation (as histogram_quantile does;
 *              buckets 1, 2.5, 5, 10, 25, 50, 100 ms ...);
 *   loop p99   nodejs_eventloop_lag_p99_seconds at the end of the window (prom-client resets
 *              it at every scrape, so it covers the window);
 *   rate       probes completed per second (lookout_probes_total) against N / interval;
 *   scrape     median and max time of the window's scrapes (request sent to last byte read,
 *              read with node:http and thrown away), the size of the answer and its samples.
 * The two scrapes that bracket the window (and give the counters) are outside the CPU readings;
 * the ones in between are inside, and their probes' lag with them. Why tcp targets: a
 * tcp probe is the cheapest real probe for both sides, so the curve shows the daemon's own
 * per-target costs (scheduling, metrics, detector) rather than TLS or HTTP parsing.
 * --lookout DIR measures the built checkout in DIR instead of this one (before and after).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { killAll, pidOf, start, stop, waitForLine } from '../common/children.js';
import { boundRun, commandLine, describeLookout, lookoutRoot, machineInfo, ROOT, runBenchmark } from '../common/cli.js';
import { refuseOutsideNetns } from '../common/netns-guard.js';
import { cpuSeconds, memoryMb } from '../common/proc.js';
import { median } from '../common/stats.js';
import { MAX_TARGETS } from '../common/targets.js';
import { scrape, startDaemon, writeScaleConfig } from './daemon.js';
import { bucketDelta, buckets, parseSamples, quantile, sum } from './metrics-text.js';
import { formatReport, type ScaleRow, type ScaleRun } from './table.js';

const PORT = 8080;
const LAG = 'lookout_scheduler_lag_seconds';

interface Options extends ScaleRun {
  sizes: number[];
  cpuProf: string | undefined;
  json: string | undefined;
  lookout: string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '1000,10000,50000' },
      interval: { type: 'string', default: '60' },
      intervals: { type: 'string', default: '2' },
      warmup: { type: 'string' },
      'scrape-every': { type: 'string', default: '15' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      lookout: { type: 'string' },
    },
  });
  const sizes = values.sizes.split(',').filter((s) => s !== '').map(Number);
  const interval = Number(values.interval);
  const intervals = Number(values.intervals);
  const scrapeEvery = Number(values['scrape-every']);
  for (const n of sizes) if (!Number.isInteger(n) || n < 5 || n > MAX_TARGETS) throw new Error(`--sizes: each must be an integer 5..${MAX_TARGETS}`);
  if (sizes.length === 0) throw new Error('--sizes is empty');
  if (!(interval >= 1)) throw new Error('--interval must be at least 1 (seconds)');
  if (!(intervals > 0)) throw new Error('--intervals must be positive');
  if (!(scrapeEvery > 0)) throw new Error('--scrape-every must be a positive number of seconds');
  const warmup = values.warmup !== undefined ? Number(values.warmup) : interval + 10;
  if (!(warmup >= 0)) throw new Error('--warmup must be >= 0');
  const cpuProf = values['cpu-prof'] !== undefined ? resolve(values['cpu-prof']) : undefined;
  return { sizes, interval, intervals, warmup, scrapeEvery, cpuProf, json: values.json, lookout: lookoutRoot(values.lookout) };
}

async function measure(dir: string, n: number, o: Options): Promise<ScaleRow> {
  const path = writeScaleConfig(dir, n, o.interval, PORT);
  const { child, startupS } = await startDaemon(o.lookout, path, { cpuProfDir: o.cpuProf, name: `lookout-scale-${n}` });
  try {
    await sleep(o.warmup * 1000);
    const a = await scrape();
    const before = parseSamples(a.text);
    const pid = pidOf(child);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    const windowMs = o.intervals * o.interval * 1000;
    const times = [a.seconds];
    // Prometheus-like scrapes inside the window, on a fixed cadence from its start.
    for (let k = 1; k * o.scrapeEvery * 1000 < windowMs - 500; k++) {
      await sleep(Math.max(0, t0 + k * o.scrapeEvery * 1000 - performance.now()));
      times.push((await scrape({ keepText: false })).seconds);
    }
    await sleep(Math.max(0, t0 + windowMs - performance.now()));
    const cpu1 = cpuSeconds(pid);
    const t1 = performance.now();
    const mem = memoryMb(pid);
    const b = await scrape();
    const after = parseSamples(b.text);
    times.push(b.seconds);
    const bytes = b.bytes;
    const seconds = (t1 - t0) / 1000;
    const probes = sum(after, 'lookout_probes_total') - sum(before, 'lookout_probes_total');
    // The counters are as of the bracketing scrapes, a little outside the CPU window: the rate
    // comes from the time between those, the CPU per probe from that rate over the CPU window.
    const rate = probes / ((b.at - a.at) / 1000);
    const cpu = cpu1 - cpu0;
    const lag = bucketDelta(buckets(before, LAG), buckets(after, LAG));
    return {
      n,
      intervalS: o.interval,
      startupS,
      seconds,
      probes,
      expectedRate: n / o.interval,
      rate,
      failed: sum(after, 'lookout_probe_failures_total') - sum(before, 'lookout_probe_failures_total'),
      skipped: sum(after, 'lookout_probe_skipped_total') - sum(before, 'lookout_probe_skipped_total'),
      cpuSeconds: cpu,
      cpuShare: cpu / seconds,
      cpuMsPerProbe: rate > 0 ? (cpu * 1000) / (rate * seconds) : NaN,
      rssMb: mem.rss,
      peakRssMb: mem.hwm,
      lagP50: quantile(0.5, lag),
      lagP99: quantile(0.99, lag),
      loopP99: sum(after, 'nodejs_eventloop_lag_p99_seconds'),
      scrapes: times.length,
      scrapeMedian: median(times),
      scrapeMax: Math.max(...times),
      metricsMb: bytes / 1e6,
      series: b.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
    };
  } finally {
    await stop(child, 10_000);
  }
}

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  await refuseOutsideNetns(ROOT);
  const info = machineInfo({ lookout: describeLookout(o.lookout) });
  const perSize = 180 + o.warmup + o.intervals * o.interval + 120;
  const boundMs = (o.sizes.length * perSize + 30) * 1000;
  const clearBound = boundRun('scale', boundMs);

  const dir = mkdtempSync(join(tmpdir(), 'lookout-scale-'));
  const server = start('server', process.execPath, [join(import.meta.dirname, 'server.js'), String(PORT)], { cwd: ROOT });
  try {
    await waitForLine(server, /^ready$/m, 20_000);
    const rows: ScaleRow[] = [];
    for (const n of o.sizes) rows.push(await measure(dir, n, o));
    const command = commandLine(argv, 'scripts/netns-run.sh ');
    process.stdout.write(formatReport(info, o, rows, command));
    if (o.json) writeFileSync(o.json, JSON.stringify({ machine: info, options: o, command, rows }, null, 2));
  } finally {
    await stop(server);
    killAll();
    rmSync(dir, { recursive: true, force: true });
    clearBound();
  }
}

runBenchmark('scale', main);
