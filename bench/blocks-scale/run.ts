#!/usr/bin/env node
/**
 * One instance carrying a large country (issue 23's scale goal: 100,000 blocks at a 10-minute
 * round in under half a core and under 300 MB RSS, the detector's evaluation cost flat in the
 * number of blocks per country), with real echoes, for several block counts N.
 *
 *   npm run bench:blocks-scale -- [--sizes 16384,65536] [--round 60 | --rate R] [--warmup 2]
 *       [--rounds 2] [--scrape-every 15] [--json FILE] [--lookout DIR]
 *
 * Inside a private loopback-only namespace (refuses to run elsewhere), where the loopback answers
 * all of 127.0.0.0/8: N is at most 65,536, every /24 of 127/8 (world.ts). 100,000 blocks would
 * need addresses outside 127/8, which no test or benchmark of Lookout sends to, even inside the
 * namespace; the figures at 100,000 are extrapolated from two sizes (linear in N, stated as such).
 *
 * Time is compressed: a round of --round seconds stands for the 10-minute round, and every rate
 * the config sets per second or per hour (budgets.pps, budgets.block_hour) is scaled by the same
 * factor k = 600 / round, so a block gets the same echoes per round as at 10 minutes. The echo
 * timeout stays 3 s (the network's, not the schedule's) unless the round is under 30 s. With
 * --rate R instead of --round, each size N gets the round N / R seconds: every size then sends at
 * the same rate (the goal's is 166.7 block-rounds a second), so what grows from one size to the
 * next is what the blocks cost, not what a higher rate costs (echoes in flight, garbage).
 *
 * For each N the built daemon (dist/main.js; `npm run build` first) starts on range files of four
 * countries and 64 ASes and a state file as a finished discovery leaves it (E(b) known, no
 * availability learned yet), runs --warmup rounds (read from lookout_block_rounds_total), then a
 * window of --rounds rounds during which /metrics is scraped every --scrape-every seconds, as
 * Prometheus would. Printed per N:
 *   CPU     utime+stime of the daemon and of its fping children (cutime+cstime) from /proc over the
 *           window: share of one core, ms per block-round, and the share that cost per
 *           block-round gives at 100,000 blocks per 10 minutes (166.7 block-rounds a second);
 *   RSS     VmRSS, highest sample over the window (steady), and VmHWM (peak since start);
 *   echoes  counted at the packet filter (nftables counters per availability class) over the
 *           window: per block per round, and per hour at 10-minute rounds (six rounds);
 *   eval    the signals' evaluation as the API and the metrics serve it: median time of
 *           GET /api/v1/status (5 requests after the window) and of the window's scrapes, at
 *           N / 4 blocks per country (flat in N means the per-country evaluation does not walk
 *           the blocks).
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type * as Belief from '../../src/blocks/belief.js';
import type * as Store from '../../src/blocks/block-store.js';
import { pidOf, stop } from '../common/children.js';
import { boundRun, commandLine, describeLookout, lookoutRoot, machineInfo, ROOT, runBenchmark } from '../common/cli.js';
import { refuseOutsideNetns } from '../common/netns-guard.js';
import { cpuSeconds, memoryMb } from '../common/proc.js';
import { importBuilt } from '../common/repo.js';
import { median } from '../common/stats.js';
import { LISTEN, scrape, startDaemon } from '../scale/daemon.js';
import { parseSamples, sum } from '../scale/metrics-text.js';
import { formatReport, roundOf, type Row, type Run } from './table.js';
import { AVAILABILITY, blockNumber, classCounters, COUNTRIES, installFilter, MAX_BLOCKS, removeFilter, responsive, writeRangeFiles } from './world.js';

/** The goal's round (ms). */
const GOAL_ROUND_MS = 600_000;

interface Options extends Run {
  sizes: number[];
  json: string | undefined;
  lookout: string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '16384,65536' },
      round: { type: 'string' },
      rate: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '2' },
      'scrape-every': { type: 'string', default: '15' },
      json: { type: 'string' },
      lookout: { type: 'string' },
    },
  });
  const sizes = values.sizes.split(',').filter((s) => s !== '').map(Number);
  for (const n of sizes) if (!Number.isInteger(n) || n < 16 || n > MAX_BLOCKS) throw new Error(`--sizes: each must be an integer 16..${MAX_BLOCKS} (the /24 blocks of 127.0.0.0/8)`);
  if (sizes.length === 0) throw new Error('--sizes is empty');
  if (values.round !== undefined && values.rate !== undefined) throw new Error('give --round or --rate, not both');
  const rate = values.rate === undefined ? null : Number(values.rate);
  const run: Run = { roundS: rate === null ? Number(values.round ?? 60) : null, rate, warmup: Number(values.warmup), rounds: Number(values.rounds), scrapeEvery: Number(values['scrape-every']) };
  for (const n of sizes) {
    const r = roundOf(run, n);
    if (!(r >= 2 && r <= 600)) throw new Error(`the round must be 2..600 s (${n} blocks: ${r} s); --round S, or --rate R giving N / R`);
  }
  if (!(Number.isInteger(run.warmup) && run.warmup >= 1)) throw new Error('--warmup must be a whole number of rounds, at least 1');
  if (!(Number.isInteger(run.rounds) && run.rounds >= 1)) throw new Error('--rounds must be a whole number of rounds, at least 1');
  if (!(run.scrapeEvery > 0)) throw new Error('--scrape-every must be a positive number of seconds');
  return { ...run, sizes, json: values.json, lookout: lookoutRoot(values.lookout) };
}

/** Writes the world of N blocks and the daemon's config; returns the config's path. */
async function prepare(dir: string, n: number, o: Options, roundS: number): Promise<string> {
  const { BlockStore } = await importBuilt<typeof Store>(o.lookout, 'blocks/block-store.js');
  const { PRIOR_AVAILABILITY } = await importBuilt<typeof Belief>(o.lookout, 'blocks/belief.js');
  const databases = writeRangeFiles(dir, n);
  const storage = join(dir, `data-${n}`);
  // What a finished discovery pass saves: E(b), and the availability it has not measured yet.
  const known = Array.from({ length: n }, (_, i) => [blockNumber(i), { e: responsive(i), a: PRIOR_AVAILABILITY, n: 0 }] as [number, Store.KnownBlock]);
  await new BlockStore(storage).save(known, {}, Date.now());
  const k = GOAL_ROUND_MS / (roundS * 1000);
  const config = {
    vantage: { id: 'bench-blocks-scale' },
    server: { listen: LISTEN },
    storage: { dir: storage },
    blocks: {
      round: `${roundS * 1000}ms`,
      timeout: `${Math.min(3000, Math.round(roundS * 100))}ms`,
      sources: COUNTRIES.map((country) => ({ country })),
      databases,
      // The schema caps both (100,000 and 10,000): rounds under 4 s are not fully compressed.
      budgets: { pps: Math.min(100_000, Math.ceil(1000 * k)), block_hour: Math.min(10_000, Math.ceil(60 * k)) },
    },
  };
  const path = join(dir, `lookout-${n}.yaml`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

interface StatusBlocks {
  blocks: { monitored: number; countries: { up: number; down: number; uncertain: number }[] };
}

/** One timed GET /api/v1/status: seconds, and the block states it reports. */
async function status(): Promise<{ seconds: number; body: StatusBlocks }> {
  const t0 = performance.now();
  const res = await fetch(`http://${LISTEN}/api/v1/status`, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as StatusBlocks;
  return { seconds: (performance.now() - t0) / 1000, body };
}

async function measure(dir: string, n: number, o: Options): Promise<Row> {
  const roundS = roundOf(o, n);
  const path = await prepare(dir, n, o, roundS);
  const { child, startupS } = await startDaemon(o.lookout, path, { readyMs: 300_000 });
  try {
    const pid = pidOf(child);
    const roundMs = roundS * 1000;
    const scrapeTimes: number[] = [];
    // The warm-up: wait for its rounds, scraping at Prometheus' cadence.
    for (;;) {
      const s = await scrape();
      if (sum(parseSamples(s.text), 'lookout_block_rounds_total') >= o.warmup) break;
      await sleep(o.scrapeEvery * 1000);
    }
    const c0 = classCounters();
    const cpu0 = cpuSeconds(pid, { children: true });
    const t0 = performance.now();
    const windowMs = o.rounds * roundMs;
    let steadyRss = memoryMb(pid).rss;
    for (let k = 1; k * o.scrapeEvery * 1000 < windowMs - 500; k++) {
      await sleep(Math.max(0, t0 + k * o.scrapeEvery * 1000 - performance.now()));
      scrapeTimes.push((await scrape({ keepText: false })).seconds);
      steadyRss = Math.max(steadyRss, memoryMb(pid).rss);
    }
    await sleep(Math.max(0, t0 + windowMs - performance.now()));
    const cpu = cpuSeconds(pid, { children: true }) - cpu0;
    const seconds = (performance.now() - t0) / 1000;
    const c1 = classCounters();
    const mem = memoryMb(pid);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await status());
    const last = (statuses[statuses.length - 1] as { body: StatusBlocks }).body.blocks;
    const blockRounds = (n * seconds) / roundS;
    const runtime = parseSamples((await scrape()).text);
    return {
      n,
      startupS,
      seconds,
      cpuShare: cpu / seconds,
      cpuMsPerBlockRound: (cpu * 1000) / blockRounds,
      rssMb: Math.max(steadyRss, mem.rss),
      peakRssMb: mem.hwm,
      echoes: AVAILABILITY.map((_, c) => (c1[c] ?? 0) - (c0[c] ?? 0)),
      roundS,
      windowRounds: seconds / roundS,
      heapMb: sum(runtime, 'nodejs_heap_size_used_bytes') / 1e6,
      externalMb: sum(runtime, 'nodejs_external_memory_bytes') / 1e6,
      statusMs: median(statuses.map((s) => s.seconds * 1000)),
      scrapeMs: median(scrapeTimes.map((s) => s * 1000)),
      monitored: last.monitored,
      up: last.countries.reduce((a, c) => a + c.up, 0),
      down: last.countries.reduce((a, c) => a + c.down, 0),
      uncertain: last.countries.reduce((a, c) => a + c.uncertain, 0),
    };
  } catch (err) {
    throw new Error(`${n} blocks: ${err instanceof Error ? err.message : String(err)}\n${child.tail()}`);
  } finally {
    await stop(child, 20_000);
  }
}

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  await refuseOutsideNetns(ROOT);
  const info = machineInfo({ lookout: describeLookout(o.lookout) });
  const perSize = (n: number): number => 300 + (o.warmup + o.rounds + 1) * roundOf(o, n) + 60;
  const clearBound = boundRun('blocks-scale', (o.sizes.reduce((t, n) => t + perSize(n), 0) + 30) * 1000);
  const dir = mkdtempSync(join(tmpdir(), 'lookout-blocks-scale-'));
  installFilter();
  try {
    const rows: Row[] = [];
    for (const n of o.sizes) rows.push(await measure(dir, n, o));
    const command = commandLine(argv, 'scripts/netns-run.sh ');
    process.stdout.write(formatReport(info, o, rows, command));
    if (o.json) writeFileSync(o.json, JSON.stringify({ machine: info, options: o, command, rows }, null, 2));
  } finally {
    removeFilter();
    rmSync(dir, { recursive: true, force: true });
    clearBound();
  }
}

runBenchmark('blocks-scale', main);
