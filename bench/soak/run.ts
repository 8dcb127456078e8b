#!/usr/bin/env node
/**
 * Soak benchmark (issue 13): the daemon with many targets at a short interval for a long time,
 * a tenth of them hostile and a tenth flapping, reloaded every minute and polled like a
 * monitoring stack would, with its resources sampled each minute.
 *
 *   npm run bench:soak -- [--minutes 60] [--targets 1000] [--interval 1]
 *       [--sample-every 60] [--reload-every 60] [--flap 45] [--cpu-prof DIR] [--json FILE]
 *       [--lookout DIR]
 *
 * Inside a private loopback-only network namespace (refuses to run elsewhere). A separate
 * process (server.ts) answers every target address: healthy http and tcp targets, flapping
 * http targets (503 in alternate --flap second windows) and hostile ones (silent, reset after
 * the request, slow headers; plan.ts). The built daemon (dist/main.js; `npm run build` first)
 * runs with an admin token; meanwhile the benchmark
 *   - rewrites the config and POSTs /-/reload (with the token) every --reload-every seconds,
 *     alternately adding and removing ten targets, so targets come and go all the time;
 *   - GETs /api/v1/status and /api/v1/events every 5 s and /metrics every 15 s;
 *   - every --sample-every seconds records from /proc/<pid>: VmRSS and the open descriptors
 *     (entries of /proc/<pid>/fd), and from /metrics: nodejs_heap_size_used_bytes, the worst
 *     nodejs_eventloop_lag_p99_seconds of the period's scrapes (prom-client resets that
 *     histogram at each scrape, so each value covers the time since the previous one), the
 *     scheduler lag p99 (lookout_scheduler_lag_seconds bucket deltas) and the probe rate.
 * It prints one row per sample and the goals: RSS and descriptors flat after warm-up (the mean
 * of the last three samples against the mean of the three from the end of warm-up, the first
 * quarter of the run; growth under 5%) and event-loop lag p99 under 50 ms in every period.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { killAll, pidOf, start, stop, waitForLine, type Child } from '../common/children.js';
import { boundRun, commandLine, describeLookout, lookoutRoot, machineInfo, ROOT, runBenchmark } from '../common/cli.js';
import { refuseOutsideNetns } from '../common/netns-guard.js';
import { cpuSeconds, memoryMb } from '../common/proc.js';
import { LISTEN, scrape, startDaemon } from '../scale/daemon.js';
import { bucketDelta, buckets, parseSamples, quantile, sum, type Sample } from '../scale/metrics-text.js';
import { roles, soakTarget } from './plan.js';
import { formatReport, type SoakCounts, type SoakResult, type SoakRow, type SoakRun } from './table.js';

const TOKEN = 'soak-admin-token-0123456789';
const EXTRA = 10;
const SCRAPE_EVERY = 15;

interface Options extends SoakRun {
  flap: number;
  json: string | undefined;
  cpuProf: string | undefined;
  lookout: string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '60' },
      targets: { type: 'string', default: '1000' },
      interval: { type: 'string', default: '1' },
      'sample-every': { type: 'string', default: '60' },
      'reload-every': { type: 'string', default: '60' },
      flap: { type: 'string', default: '45' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      lookout: { type: 'string' },
    },
  });
  const o: Options = {
    minutes: Number(values.minutes),
    targets: Number(values.targets),
    interval: Number(values.interval),
    sampleEvery: Number(values['sample-every']),
    reloadEvery: Number(values['reload-every']),
    flap: Number(values.flap),
    json: values.json,
    cpuProf: values['cpu-prof'] !== undefined ? resolve(values['cpu-prof']) : undefined,
    lookout: lookoutRoot(values.lookout),
  };
  if (!(o.minutes > 0)) throw new Error('--minutes must be positive');
  if (!Number.isInteger(o.targets) || o.targets < 20 || o.targets > 40_000) throw new Error('--targets must be an integer 20..40000');
  if (!(o.interval >= 1)) throw new Error('--interval must be at least 1 (seconds)');
  if (!(o.sampleEvery >= SCRAPE_EVERY && o.sampleEvery % SCRAPE_EVERY === 0)) throw new Error(`--sample-every must be a multiple of ${SCRAPE_EVERY} (seconds)`);
  if (!(o.reloadEvery >= 5)) throw new Error('--reload-every must be at least 5 (seconds)');
  if (!(o.flap > 0)) throw new Error('--flap must be positive (seconds)');
  return o;
}

/** Writes the daemon's config with targets 0..n-1 (plus EXTRA more when `extra`). */
function writeConfig(path: string, dir: string, o: Options, extra: boolean): void {
  const count = o.targets + (extra ? EXTRA : 0);
  const intervalMs = o.interval * 1000;
  const config = {
    vantage: { id: 'bench-soak', country: 'DE' },
    server: { listen: LISTEN, admin_token: TOKEN },
    storage: { dir: join(dir, 'data') },
    schedule: { interval: `${intervalMs}ms`, timeout: `${Math.round(intervalMs * 0.8)}ms`, concurrency: 1024, confirm_delay: `${Math.round(intervalMs / 4)}ms` },
    targets: Array.from({ length: count }, (_, i) => soakTarget(i)),
  };
  writeFileSync(path, JSON.stringify(config));
}

/** One request; { ok, status } and never throws (a failure is counted, not fatal). */
async function request(path: string, init: RequestInit = {}): Promise<{ ok: boolean; status: number | string }> {
  try {
    const res = await fetch(`http://${LISTEN}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return { ok: res.ok, status: res.status };
  } catch (err) {
    return { ok: false, status: err instanceof Error ? err.name : 'error' };
  }
}

/** Sleeps `ms`, or less when `signal` aborts (then resolves, never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(Math.max(0, ms), undefined, { signal }).catch(() => undefined);
}

/** Calls `fn` at t0 + k * ms for k = first, first + 1, ... until `signal` aborts. */
async function every(ms: number, first: number, signal: AbortSignal, fn: (k: number) => Promise<void>): Promise<void> {
  const t0 = performance.now();
  for (let k = first; !signal.aborted; k++) {
    await pause(t0 + k * ms - performance.now(), signal);
    if (signal.aborted) return;
    await fn(k);
  }
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Starts the idle control process; `worst()` is its worst per-second p99 loop delay since `reset()`, in seconds. */
function startIdleControl(): { child: Child; worst: () => number; reset: () => void } {
  const child = start('idle-loop', process.execPath, [join(import.meta.dirname, 'idle-loop.js')], { cwd: ROOT });
  const seconds: number[] = [];
  let buffered = '';
  child.proc.stdout.on('data', (chunk: Buffer) => {
    buffered += String(chunk);
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const m = /^p99 ([\d.]+)$/.exec(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      if (m) seconds.push(Number(m[1]) / 1000);
    }
  });
  return {
    child,
    worst: () => (seconds.length === 0 ? NaN : Math.max(...seconds)),
    reset: () => {
      seconds.splice(0);
    },
  };
}

async function soak(dir: string, o: Options): Promise<SoakResult> {
  const idle = startIdleControl();
  const configPath = join(dir, 'lookout.yaml');
  writeConfig(configPath, dir, o, false);
  const { child, startupS } = await startDaemon(o.lookout, configPath, { name: 'lookout-soak', cpuProfDir: o.cpuProf });
  const pid = pidOf(child);
  const counts: SoakCounts = { reloads: 0, reloadFailures: 0, polls: 0, pollFailures: 0, scrapes: 0, scrapeFailures: 0 };
  let loopWorst = 0;
  const stopping = new AbortController();
  const signal = stopping.signal;
  child.exited.then(() => stopping.abort(), () => undefined);

  // Reload k adds the extra targets when k is odd and removes them when it is even.
  const reloads = every(o.reloadEvery * 1000, 1, signal, async (k) => {
    writeConfig(configPath, dir, o, k % 2 === 1);
    const r = await request('/-/reload', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    if (r.ok) counts.reloads += 1;
    else counts.reloadFailures += 1;
  });
  const polls = every(5000, 0, signal, async () => {
    for (const path of ['/api/v1/status', '/api/v1/events']) {
      const r = await request(path);
      if (r.ok) counts.polls += 1;
      else counts.pollFailures += 1;
    }
  });
  const takeScrape = async (): Promise<Sample[] | null> => {
    try {
      const s = await scrape();
      counts.scrapes += 1;
      const samples = parseSamples(s.text);
      loopWorst = Math.max(loopWorst, sum(samples, 'nodejs_eventloop_lag_p99_seconds'));
      return samples;
    } catch {
      counts.scrapeFailures += 1;
      return null;
    }
  };
  const rows: SoakRow[] = [];
  const t0 = performance.now();
  let prev = await takeScrape();
  let prevAt = performance.now();
  let prevCpu = cpuSeconds(pid);
  loopWorst = 0;
  idle.reset();
  let peakRssMb = NaN;
  const total = Math.round((o.minutes * 60) / o.sampleEvery);
  // One scrape at a time (two at once would see prom-client's loop-delay histogram just reset):
  // the scrapes every SCRAPE_EVERY seconds, of which every sampleEvery / SCRAPE_EVERY-th is a sample.
  const perSample = o.sampleEvery / SCRAPE_EVERY;
  try {
    for (let k = 1; k <= total; k++) {
      for (let j = 1; j < perSample; j++) {
        await pause(t0 + ((k - 1) * perSample + j) * SCRAPE_EVERY * 1000 - performance.now(), signal);
        if (signal.aborted) break;
        await takeScrape();
      }
      await pause(t0 + k * o.sampleEvery * 1000 - performance.now(), signal);
      if (child.proc.exitCode !== null) throw new Error(`lookout exited (${child.proc.exitCode}) at sample ${k}\n${child.tail()}`);
      const mem = memoryMb(pid);
      peakRssMb = mem.hwm;
      const fds = fdCount(pid);
      const cpu = cpuSeconds(pid);
      const samples = await takeScrape();
      const at = performance.now();
      if (samples === null || prev === null) throw new Error(`/metrics did not answer at sample ${k}`);
      const lag = bucketDelta(buckets(prev, 'lookout_scheduler_lag_seconds'), buckets(samples, 'lookout_scheduler_lag_seconds'));
      const seconds = (at - prevAt) / 1000;
      const row: SoakRow = {
        minute: (k * o.sampleEvery) / 60,
        cpuShare: (cpu - prevCpu) / seconds,
        load1: loadavg()[0] ?? NaN,
        rssMb: mem.rss,
        heapMb: sum(samples, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        fds,
        loopP99: loopWorst,
        idleP99: idle.worst(),
        schedP99: quantile(0.99, lag),
        probesPerS: (sum(samples, 'lookout_probes_total') - sum(prev, 'lookout_probes_total')) / seconds,
        failedPerS: (sum(samples, 'lookout_probe_failures_total') - sum(prev, 'lookout_probe_failures_total')) / seconds,
        skipped: sum(samples, 'lookout_probe_skipped_total') - sum(prev, 'lookout_probe_skipped_total'),
        reloads: counts.reloads,
        reloadFailures: counts.reloadFailures,
        pollFailures: counts.pollFailures + counts.scrapeFailures,
        openEvents: sum(samples, 'lookout_disruption_active'),
      };
      rows.push(row);
      process.stderr.write(`soak: sample ${k}/${total}: RSS ${row.rssMb.toFixed(0)} MB, fds ${fds}, loop p99 ${(row.loopP99 * 1000).toFixed(1)} ms\n`);
      prev = samples;
      prevAt = at;
      prevCpu = cpu;
      loopWorst = 0;
      idle.reset();
    }
  } finally {
    stopping.abort();
    await Promise.all([reloads, polls]);
    await stop(child, 10_000);
    await stop(idle.child);
  }
  return { rows, startupS, counts, peakRssMb };
}

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  await refuseOutsideNetns(ROOT);
  const info = machineInfo({ lookout: describeLookout(o.lookout) });
  const clearBound = boundRun('soak', (o.minutes * 60 + 300 + o.reloadEvery) * 1000);
  const dir = mkdtempSync(join(tmpdir(), 'lookout-soak-'));
  const server = start('server', process.execPath, [join(import.meta.dirname, 'server.js'), String(o.flap)], { cwd: ROOT });
  try {
    await waitForLine(server, /^ready$/m, 20_000);
    const result = await soak(dir, o);
    const command = commandLine(argv, 'scripts/netns-run.sh ');
    process.stdout.write(formatReport(info, o, roles(o.targets), result, command));
    if (o.json) writeFileSync(o.json, JSON.stringify({ machine: info, options: o, command, ...result }, null, 2));
  } finally {
    await stop(server);
    killAll();
    rmSync(dir, { recursive: true, force: true });
    clearBound();
  }
}

runBenchmark('soak', main);
