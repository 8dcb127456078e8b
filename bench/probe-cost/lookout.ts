/**
 * The Lookout side: writes a config with N targets of one kind at interval N/rate, starts the
 * built daemon (dist/main.js of the checkout measured, LOG_LEVEL=warn) and reads its probe counters from /metrics.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLookoutProcess, type Child, type CpuProfile } from '../common/children.js';
import { targetFor, type BenchKind } from '../common/targets.js';

export const LOOKOUT_LISTEN = '127.0.0.1:19464';

/**
 * Writes the config (JSON is valid YAML) into `dir`; returns its path and interval in ms. With
 * `remoteWriteUrl`, the daemon also queues every sample for remote write to that (loopback) sink.
 * `listen` and `name` let two daemons run side by side (their own port, config and data dir).
 */
export function writeLookoutConfig(
  dir: string,
  kind: BenchKind,
  n: number,
  rate: number,
  remoteWriteUrl?: string,
  { listen = LOOKOUT_LISTEN, name = kind }: { listen?: string; name?: string } = {},
): { path: string; intervalMs: number } {
  const intervalMs = Math.max(1, Math.round((n / rate) * 1000));
  // The schema wants timeout and confirm_delay shorter than the interval; on loopback every
  // probe answers in well under a millisecond, so neither matters for the cost.
  const timeoutMs = Math.min(5000, Math.max(1, Math.floor(intervalMs * 0.8)));
  const confirmMs = Math.min(1000, Math.max(1, Math.floor(intervalMs * 0.5)));
  const config = {
    vantage: { id: 'bench', country: 'KZ' },
    server: { listen },
    storage: { dir: join(dir, `lookout-data-${name}`) },
    schedule: { interval: `${intervalMs}ms`, timeout: `${timeoutMs}ms`, concurrency: 4096, confirm_delay: `${confirmMs}ms` },
    targets: Array.from({ length: n }, (_, i) => ({ id: `${kind}-${i}`, category: 'bench', ...targetFor(kind, i).lookout })),
    ...(remoteWriteUrl ? { remote_write: [{ url: remoteWriteUrl, name: 'sink' }] } : {}),
  };
  const path = join(dir, `lookout-${name}.yaml`);
  writeFileSync(path, JSON.stringify(config, null, 1));
  return { path, intervalMs };
}

/** Sum of the samples of `name` whose labels include kind="<kind>". */
function sumSamples(text: string, name: string, kind: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(`kind="${kind}"`)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Cumulative probe counts of a prober. */
export interface ProbeCounts {
  probes: number;
  failed: number;
}

/** Cumulative { probes, failed } of one kind from the /metrics of the daemon listening on `listen`. */
export async function lookoutCounts(kind: string, listen = LOOKOUT_LISTEN): Promise<ProbeCounts> {
  const res = await fetch(`http://${listen}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`lookout /metrics answered ${res.status}`);
  const text = await res.text();
  return { probes: sumSamples(text, 'lookout_probes_total', kind), failed: sumSamples(text, 'lookout_probe_failures_total', kind) };
}

/**
 * Starts the daemon; resolves once it has completed at least one probe of `kind`. With
 * `cpuProfDir` it runs under node --cpu-prof, writing `lookout-<kind>.cpuprofile` there when
 * it exits (it must be stopped with SIGTERM, not killed).
 */
export async function startLookout(
  root: string,
  configPath: string,
  kind: string,
  { cpuProfDir, readyMs = 20_000, listen = LOOKOUT_LISTEN, profName = `lookout-${kind}` }: CpuProfile & { readyMs?: number; listen?: string } = {},
): Promise<Child> {
  const child = startLookoutProcess(root, configPath, { cpuProfDir, profName });
  const deadline = Date.now() + readyMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`lookout exited (${child.proc.exitCode})\n${child.tail()}`);
    try {
      if ((await lookoutCounts(kind, listen)).probes > 0) return child;
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  throw new Error(`lookout: no ${kind} probe within ${readyMs} ms\n${child.tail()}`);
}
