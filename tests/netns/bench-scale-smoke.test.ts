import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledBench } from '../fixtures/bench-build.js';
import { tables } from '../fixtures/bench-tables.js';

// The scale benchmark (bench/scale) at a tiny size, so that its scripts never rot. It asserts only
// that the run produced well-formed tables with finite figures, never anything about speed. Needs
// dist/ (npm run build) and the compiled benchmarks (npm run build:bench).

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  if (!existsSync(resolve(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run npm run build first');
});

describe('bench/scale at tiny size', () => {
  it('prints the scale table and the scrape table with finite figures', async () => {
    const { stdout } = await run(
      process.execPath,
      [compiledBench('scale/run'), '--sizes', '20,30', '--interval', '2', '--intervals', '1', '--warmup', '2', '--scrape-every', '0.5'],
      { cwd: ROOT, timeout: 100_000 },
    );
    expect(stdout).toContain('Scale curve: the daemon with N tcp targets');
    const [main, scrapes] = tables(stdout);
    expect(main?.map((r) => r[0])).toEqual(['20', '30']);
    for (const row of main ?? []) {
      expect(row).toHaveLength(13);
      const [n, interval, rate, planned, cpu, perProbe, rss, peak, p50, p99, loop, failed, skipped] = row.map((c) => Number.parseFloat(c));
      expect(interval).toBe(2);
      expect(rate).toBeGreaterThan(0);
      expect(planned).toBeGreaterThan(0);
      for (const x of [cpu, perProbe, p50, p99, loop]) expect(Number.isFinite(x)).toBe(true);
      expect(rss).toBeGreaterThan(0);
      expect(peak).toBeGreaterThanOrEqual(rss as number);
      expect(failed).toBe(0);
      expect(skipped).toBe(0);
      expect(n).toBeGreaterThan(0);
    }
    expect(scrapes?.map((r) => r[0])).toEqual(['20', '30']);
    for (const row of scrapes ?? []) {
      expect(row).toHaveLength(7);
      const [, startup, samples, mb, count, median, max] = row.map(Number);
      expect(samples).toBeGreaterThan(20);
      expect(count).toBeGreaterThanOrEqual(3);
      for (const x of [startup, mb, median, max]) expect(Number.isFinite(x)).toBe(true);
      expect(max).toBeGreaterThanOrEqual(median as number);
    }
    expect(stdout).toMatch(/^ {2}\[(met|not met)\] per-probe CPU within 1\.2x, 20 to 30/m);
    expect(stdout).toMatch(/^guard: 20 to 30: per-probe CPU x[\d.]+ \(limit 1\.3\), scrape time per target x[\d.]+ \(limit 1\.3\): (met|not met)$/m);
  }, 120_000);
});

// The scale guard (issue 28): the bench at two sizes in one run, where the larger's per-probe CPU
// and scrape time per target may exceed the smaller's by at most 1.3x (bench/scale/table.ts). Ratios
// within one run, so that the machine's speed and load cancel out; about two and a half minutes.
describe('scale guard: 1,000 and 20,000 targets in one run', () => {
  it('per-probe CPU and scrape time per target do not grow with the number of targets', async () => {
    const { stdout } = await run(
      process.execPath,
      [compiledBench('scale/run'), '--sizes', '1000,20000', '--interval', '30', '--intervals', '1', '--warmup', '35', '--scrape-every', '5'],
      { cwd: ROOT, timeout: 420_000 },
    );
    const [main] = tables(stdout);
    for (const row of main ?? []) {
      // Every planned probe ran (a daemon that cannot keep up makes its per-probe cost look low).
      expect(Number.parseFloat(row[3] ?? '')).toBeGreaterThan(97);
      expect(row[11]).toBe('0');
      expect(row[12]).toBe('0');
    }
    const guard = /^guard: 1000 to 20000: .*$/m.exec(stdout)?.[0];
    expect(guard, stdout).toMatch(/: met$/);
  }, 450_000);
});
