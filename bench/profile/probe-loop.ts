#!/usr/bin/env node
/**
 * A focused loop for profiling one prober: the built prober (dist/probers) probes the N
 * loopback targets of bench/probe-cost at a fixed rate, in this process, with nothing else of
 * the daemon around it (no scheduler, metrics or detector). Prints the CPU of this process
 * (process.cpuUsage: all threads, user and system) per probe over a window after a warm-up.
 *
 *   scripts/netns-run.sh node .bench-build/bench/profile/probe-loop.js [--kind http] [--targets 200]
 *       [--rate 100] [--seconds 20] [--warmup 4]
 *   scripts/netns-run.sh node --cpu-prof --cpu-prof-dir=/tmp/prof .bench-build/bench/profile/probe-loop.js ...
 *
 * The targets are served by bench/probe-cost/servers.ts in a child process (its CPU is not
 * counted). Refuses to run outside the private namespace (scripts/netns-run.sh); needs dist/
 * (npm run build) and the compiled benchmarks (npm run build:bench).
 */
import process from 'node:process';
import { clearInterval, setInterval } from 'node:timers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setMaxListeners } from 'node:events';
import { parseArgs } from 'node:util';
import type * as ConfigLoad from '../../src/config/load.js';
import type * as ProberRegistry from '../../src/probers/registry.js';
import type * as Resolver from '../../src/probers/resolver.js';
import type { ProbeContext } from '../../src/probers/types.js';
import { killAll, start, stop, waitForLine } from '../common/children.js';
import { isOneOf } from '../common/cli.js';
import { refuseOutsideNetns } from '../common/netns-guard.js';
import { importBuilt, ROOT } from '../common/repo.js';
import { writeLookoutConfig } from '../probe-cost/lookout.js';

const KINDS = ['http', 'tcp', 'dns'] as const;
const { values } = parseArgs({
  options: {
    kind: { type: 'string', default: 'http' },
    targets: { type: 'string', default: '200' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '4' },
  },
});
const kind = values.kind;
const n = Number(values.targets);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
if (!isOneOf(KINDS, kind)) throw new Error('--kind must be http, tcp or dns');
if (!(n >= 1 && rate > 0 && seconds > 0 && warmup >= 0)) throw new Error('bad --targets, --rate, --seconds or --warmup');
await refuseOutsideNetns(ROOT);

const { loadConfig } = await importBuilt<typeof ConfigLoad>(ROOT, 'config/load.js');
const { runProbe } = await importBuilt<typeof ProberRegistry>(ROOT, 'probers/registry.js');
const { createResolver } = await importBuilt<typeof Resolver>(ROOT, 'probers/resolver.js');

const dir = mkdtempSync(join(tmpdir(), 'lookout-probe-loop-'));
const servers = start('servers', process.execPath, [join(import.meta.dirname, '../probe-cost/servers.js'), String(n)], { cwd: ROOT });
try {
  await waitForLine(servers, /^ready$/m, 20_000);
  const config = await loadConfig(writeLookoutConfig(dir, kind, n, rate).path);
  const targets = config.targets;
  const never = new AbortController().signal;
  // Every probe in flight listens on it, as on the daemon's stop signal.
  setMaxListeners(0, never);
  const ctx: ProbeContext = { timeoutMs: 5000, signal: never, resolver: createResolver(undefined) };
  const counts = { done: 0, failed: 0 };
  let issued = 0;
  let inFlight = 0;
  const t0 = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; issued < due; issued++) {
      inFlight++;
      void runProbe(targets[issued % n] as (typeof targets)[number], ctx).then((r) => {
        inFlight--;
        counts.done++;
        if (!r.ok) counts.failed++;
      });
    }
  }, 5);
  await sleep(warmup * 1000);
  const c0 = { ...counts };
  const u0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const u1 = process.cpuUsage(u0);
  const w1 = performance.now();
  const probes = counts.done - c0.done;
  clearInterval(timer);
  while (inFlight > 0) await sleep(10);
  const ms = (us: number): string => (us / 1000 / probes).toFixed(3);
  process.stdout.write(
    `${kind}: ${probes} probes (${counts.failed - c0.failed} failed) in ${((w1 - w0) / 1000).toFixed(1)} s; ` +
      `CPU ms/probe ${ms(u1.user + u1.system)} (user ${ms(u1.user)}, system ${ms(u1.system)})\n`,
  );
} finally {
  await stop(servers);
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
