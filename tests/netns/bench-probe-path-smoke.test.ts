import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledBench } from '../fixtures/bench-build.js';

// The remote write probe-path benchmark (bench/remote-write/probe-path.ts) at a tiny size, so that
// its script never rots. It asserts that both passes ran, that both daemons probed and the "on" one
// shipped samples to the sink, and that the figures are finite; never anything about cost. Needs
// dist/ (npm run build) and the compiled benchmarks (npm run build:bench).

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'lookout-probe-path-smoke-'));

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  if (!existsSync(resolve(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run npm run build first');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Window {
  pass: number;
  off: { probes: number; cpuSeconds: number };
  on: { probes: number; cpuSeconds: number };
  sinkRequestsPerSecond: number;
}

describe('bench/remote-write/probe-path.ts at tiny size', () => {
  it('runs two passes of both daemons and reports finite per-window and pooled figures', async () => {
    const json = join(dir, 'figures.json');
    const { stdout } = await run(
      process.execPath,
      [compiledBench('remote-write/probe-path'), '--targets', '5', '--rate', '10', '--warmup', '1', '--window', '6', '--windows', '1', '--passes', '2', '--json', json],
      { cwd: ROOT, timeout: 100_000 },
    );
    expect(stdout).toMatch(/^pooled: off \d+\.\d{3} ms\/probe, on \d+\.\d{3} ms\/probe: [+-]\d+\.\d%$/m);
    const figures = JSON.parse(readFileSync(json, 'utf8')) as { windows: Window[]; summary: Record<string, number> };
    expect(figures.windows.map((w) => w.pass)).toEqual([1, 2]);
    for (const w of figures.windows) {
      expect(w.off.probes).toBeGreaterThan(0);
      expect(w.on.probes).toBeGreaterThan(0);
    }
    // A 6 s window spans at least one send_interval (5 s): the "on" daemon shipped in each.
    for (const w of figures.windows) expect(w.sinkRequestsPerSecond).toBeGreaterThan(0);
    for (const [key, value] of Object.entries(figures.summary)) expect(Number.isFinite(value), key).toBe(true);
    expect(figures.summary.failed).toBe(0);
  }, 120_000);
});
