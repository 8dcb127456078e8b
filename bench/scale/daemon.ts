/**
 * The daemon side of the scale benchmark: a config of N tcp targets (distinct loopback
 * addresses, spread over countries, ASNs and categories like a real catalog, four of them
 * controls), the built daemon started on it, and timed /metrics scrapes.
 */
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLookoutProcess, type Child } from '../common/children.js';
import { targetAddress } from '../common/targets.js';

export const LISTEN = '127.0.0.1:19465';
const COUNTRIES = ['KZ', 'UZ', 'KG', 'TJ', 'TM', 'RU', 'BY', 'UA', 'GE', 'AM', 'AZ', 'IR', 'TR', 'PK', 'IN', 'CN', 'MN', 'AF', 'IQ', 'SY'];
const CATEGORIES = ['government', 'news', 'social', 'streaming', 'messaging', 'isp', 'finance', 'general'];
const CONTROLS = 4;

/** Writes the config (JSON is valid YAML) for `n` targets on `port`; returns its path. */
export function writeScaleConfig(dir: string, n: number, intervalS: number, port: number): string {
  const targets = Array.from({ length: n }, (_, i) => ({
    id: `t-${i}`,
    kind: 'tcp',
    host: targetAddress(i),
    port,
    country: COUNTRIES[i % COUNTRIES.length],
    asn: 64512 + (i % 97),
    category: CATEGORIES[i % CATEGORIES.length],
    ...(i < CONTROLS ? { control: true } : {}),
  }));
  const config = {
    vantage: { id: 'bench-scale', country: 'DE' },
    server: { listen: LISTEN },
    storage: { dir: join(dir, `data-${n}`) },
    schedule: { interval: `${intervalS * 1000}ms`, timeout: `${Math.min(10_000, intervalS * 500)}ms`, concurrency: 256, confirm_delay: `${Math.min(5000, intervalS * 250)}ms` },
    targets,
  };
  const path = join(dir, `lookout-${n}.yaml`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/**
 * Starts the checkout's dist/main.js on `configPath` (LOG_LEVEL=warn), optionally under node --cpu-prof;
 * resolves with { child, startupS } once /readyz answers 200.
 */
export async function startDaemon(
  root: string,
  configPath: string,
  { cpuProfDir, name, readyMs = 180_000 }: { cpuProfDir?: string | undefined; name?: string; readyMs?: number } = {},
): Promise<{ child: Child; startupS: number }> {
  const t0 = performance.now();
  const child = startLookoutProcess(root, configPath, { cpuProfDir, profName: name });
  const deadline = Date.now() + readyMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`lookout exited (${child.proc.exitCode})\n${child.tail()}`);
    try {
      const res = await fetch(`http://${LISTEN}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.ok) return { child, startupS: (performance.now() - t0) / 1000 };
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  throw new Error(`lookout not ready after ${readyMs} ms\n${child.tail()}`);
}

/** One timed scrape; `text` is null unless it was kept. */
export interface Scrape<Text extends string | null = string | null> {
  text: Text;
  seconds: number;
  firstByteSeconds: number;
  bytes: number;
  at: number;
}

/**
 * One GET /metrics over a fresh connection, read with node:http (the body as buffers, so the
 * reading costs the benchmark little): { text (null unless keepText), seconds (request sent to
 * last byte), firstByteSeconds, bytes, at (the middle of the request, performance.now() ms:
 * about when the counters were read) }.
 */
export function scrape(): Promise<Scrape<string>>;
export function scrape(options: { keepText: false }): Promise<Scrape<null>>;
export function scrape({ keepText = true }: { keepText?: boolean } = {}): Promise<Scrape> {
  const [host, port] = LISTEN.split(':');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = get({ host, port: Number(port), path: '/metrics', agent: false, timeout: 60_000 }, (res) => {
      const firstByte = performance.now();
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keepText) chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        const t1 = performance.now();
        if (res.statusCode !== 200) {
          reject(new Error(`/metrics answered ${res.statusCode ?? '?'}`));
          return;
        }
        resolve({
          text: keepText ? Buffer.concat(chunks).toString('utf8') : null,
          seconds: (t1 - t0) / 1000,
          firstByteSeconds: (firstByte - t0) / 1000,
          bytes,
          at: (t0 + t1) / 2,
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error('/metrics: no answer within 60 s')));
    req.on('error', reject);
  });
}
