/**
 * Status page benchmark: first paint and page weight on loopback with N targets (default
 * 1,000). Starts the built daemon (dist/main.js) against N tcp targets in 20 countries on one
 * loopback listener (a fifth of them on a closed port, so that the page has failures to show),
 * waits until every target has a result, then prints:
 * - page weight: the HTML as sent gzipped (and unzipped), plus the script, style and icon, as a
 *   browser with an empty cache fetches them (the chart images are not counted: they come from
 *   the chart renderer's route);
 * - the server's time to answer `/` (rendered afresh at each evaluation, cached in between);
 * - first paint and first contentful paint in Debian's chromium (playwright-core), median of
 *   --runs fresh page loads.
 * Goals (issue 24): first paint under 1 s, page weight under 300 KB.
 *
 *   npm run bench:page [-- --targets N --runs N]
 *
 * Runs inside a private network namespace (scripts/netns-run.sh): only loopback exists.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** The repository: two levels up from bench/page/, three from .bench-build/bench/page/. */
const ROOT = [resolve(import.meta.dirname, '../..'), resolve(import.meta.dirname, '../../..')].find((d) => existsSync(join(d, 'dist/main.js'))) ?? resolve(import.meta.dirname, '../..');
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? undefined : process.argv[i + 1];
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new Error(`--${name}: expected a positive integer, got "${v}"`);
  return Number(v);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; body: Buffer }> {
  return new Promise((res, rej) => {
    request(url, { headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const body = Buffer.concat(chunks);
        res({ status: r.statusCode ?? 0, bytes: body.length, body });
      });
    })
      .on('error', rej)
      .end();
  });
}

const COUNTRIES = ['AR', 'BR', 'CD', 'DE', 'EG', 'FR', 'GB', 'IN', 'IQ', 'IR', 'JP', 'KZ', 'MX', 'NG', 'PK', 'RU', 'SD', 'TR', 'UZ', 'ZW'];

function config(n: number, apiPort: number, openPort: number, closedPort: number): string {
  const lines = [`vantage: { id: bench-page }`, `server: { listen: "127.0.0.1:${apiPort}" }`, `storage: { dir: ./data }`, `schedule: { interval: 10s, timeout: 1s, confirm_delay: 1s }`, `targets:`];
  lines.push(`  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${openPort} }`);
  lines.push(`  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${openPort} }`);
  const categories = ['news', 'social', 'government'];
  for (let i = 0; i < n - 2; i++) {
    // 20 countries (ISO 3166-1 codes: check-config and the daemon refuse others), 40 ASNs, 3 categories.
    const c = COUNTRIES[i % COUNTRIES.length] ?? 'KZ';
    const port = i % 5 === 0 ? closedPort : openPort;
    lines.push(`  - { id: t-${c.toLowerCase()}-${String(i).padStart(4, '0')}, kind: tcp, country: ${c}, asn: ${64500 + (i % 40)}, category: ${categories[i % 3]}, host: 127.0.0.1, port: ${port} }`);
  }
  return `${lines.join('\n')}\n`;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What one run measured; sizes in bytes, times in ms. */
export interface PageFigures {
  targets: number;
  runs: number;
  htmlGzip: number;
  html: number;
  assets: number;
  serverMedianMs: number;
  serverMaxMs: number;
  firstPaintMs: number[];
  firstContentfulPaintMs: number[];
}

/** Starts the daemon with `n` targets, measures the page, stops the daemon. */
export async function measurePage(n: number, runs: number): Promise<PageFigures> {
  const open = createServer((s) => s.destroy());
  const closed = createServer();
  const openPort = await listen(open);
  const closedPort = await listen(closed);
  await new Promise<void>((r) => closed.close(() => r()));
  const probe = createServer();
  const apiPort = await listen(probe);
  await new Promise<void>((r) => probe.close(() => r()));
  const dir = mkdtempSync(join(tmpdir(), 'lookout-bench-page-'));
  writeFileSync(join(dir, 'lookout.yaml'), config(n, apiPort, openPort, closedPort));
  const daemon: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist/main.js'), 'run', '--config', join(dir, 'lookout.yaml')], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn' } });
  const base = `http://127.0.0.1:${apiPort}/`;
  try {
    await waitUntil(async () => {
      const html = (await get(base)).body.toString();
      return (html.match(/<tr data-target=/g) ?? []).length === n && !/<td>-<\/td><td>-<\/td><td class="recent">-<\/td>/.test(html);
    }, 'every target to have a result', 60_000);
    const gz = await get(base, { 'Accept-Encoding': 'gzip' });
    const plain = await get(base);
    const assets = await Promise.all(['assets/page.js', 'assets/page.css', 'assets/icon.svg'].map((a) => get(base + a)));
    const assetBytes = assets.reduce((s, a) => s + a.bytes, 0);
    // The server's answer time: the first request after an evaluation renders, the next ones hit the cache.
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await get(base, { 'Accept-Encoding': 'gzip' });
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 250));
    }
    const executablePath = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    const browser = await chromium.launch({ executablePath, headless: true, args: ARGS });
    const fp: number[] = [];
    const fcp: number[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        // Not 'load': that waits for every country's chart image, drawn one at a time by the
        // chart renderer's worker, and first paint does not depend on them.
        await page.goto(base, { waitUntil: 'domcontentloaded' });
        await page.waitForFunction(`performance.getEntriesByType('paint').some((e) => e.name === 'first-contentful-paint')`, undefined, { timeout: 10_000 });
        const paints = await page.evaluate<{ name: string; startTime: number }[]>(`performance.getEntriesByType('paint').map((e) => ({ name: e.name, startTime: e.startTime }))`);
        fp.push(paints.find((p) => p.name === 'first-paint')?.startTime ?? NaN);
        fcp.push(paints.find((p) => p.name === 'first-contentful-paint')?.startTime ?? NaN);
        await context.close();
      }
    } finally {
      await browser.close();
    }
    return {
      targets: n,
      runs,
      htmlGzip: gz.bytes,
      html: plain.bytes,
      assets: assetBytes,
      serverMedianMs: median(times),
      serverMaxMs: Math.max(...times),
      firstPaintMs: fp,
      firstContentfulPaintMs: fcp,
    };
  } finally {
    daemon.kill('SIGTERM');
    open.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as the benchmark prints them. */
export function formatFigures(f: PageFigures): string {
  const kb = (b: number): string => `${(b / 1024).toFixed(1)} KB`;
  const spread = (xs: number[]): string => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  return [
    `status page, ${f.targets} targets on loopback (${f.runs} browser loads)`,
    `page weight: ${kb(f.htmlGzip + f.assets)} (HTML ${kb(f.htmlGzip)} gzipped, ${kb(f.html)} unzipped; script, style and icon ${kb(f.assets)})  goal < 300 KB`,
    `page weight without gzip: ${kb(f.html + f.assets)}`,
    `server answer to /: median ${f.serverMedianMs.toFixed(1)} ms, max ${f.serverMaxMs.toFixed(1)} ms (20 requests over 5 s)`,
    `first paint: ${spread(f.firstPaintMs)}  goal < 1000 ms`,
    `first contentful paint: ${spread(f.firstContentfulPaintMs)}`,
  ].join('\n');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  measurePage(flag('targets', 1000), flag('runs', 5))
    .then((f) => console.log(formatFigures(f)))
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    });
}
