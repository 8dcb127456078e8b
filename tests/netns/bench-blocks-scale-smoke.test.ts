import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledBench } from '../fixtures/bench-build.js';
import { tables } from '../fixtures/bench-tables.js';

// The block scale benchmark (bench/blocks-scale) at a tiny size, so that its scripts never rot.
// It asserts that the run produced its three tables with finite figures and its goal lines,
// never anything about speed or memory. Needs dist/ (npm run build) and the compiled benchmarks
// (npm run build:bench).

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  if (!existsSync(resolve(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run npm run build first');
});

describe('bench/blocks-scale at tiny size', () => {
  it('prints the cost, echo and evaluation tables with finite figures', async () => {
    const { stdout } = await run(
      process.execPath,
      [compiledBench('blocks-scale/run'), '--sizes', '64,128', '--round', '3', '--warmup', '1', '--rounds', '1', '--scrape-every', '1'],
      { cwd: ROOT, timeout: 100_000 },
    );
    expect(stdout).toContain('Block probing at scale');
    const [cost, echoes, evaluation] = tables(stdout);
    expect(cost?.map((r) => r[0])).toEqual(['64', '128']);
    for (const row of cost ?? []) {
      expect(row).toHaveLength(15);
      const [n, round, rate, share, perBlockRound, atGoal, rss, peak, heap, external, startup, monitored, up, down, uncertain] = row.map(Number);
      expect(round).toBe(3);
      expect(rate).toBeCloseTo((n as number) / 3, 0);
      for (const x of [share, perBlockRound, atGoal, startup]) expect(Number.isFinite(x)).toBe(true);
      for (const x of [heap, external]) expect(x).toBeGreaterThan(0);
      expect(rss).toBeGreaterThan(0);
      expect(peak).toBeGreaterThanOrEqual(rss as number);
      expect(monitored).toBe(n);
      expect((up as number) + (down as number) + (uncertain as number)).toBe(monitored);
    }
    // Four availability classes and the total, per size; echoes were counted at the filter.
    expect(echoes).toHaveLength(10);
    for (const row of echoes ?? []) {
      expect(row).toHaveLength(6);
      const [, , blocks, count, perRound, perHour] = row.map(Number);
      expect(blocks).toBeGreaterThan(0);
      expect(count).toBeGreaterThan(0);
      expect(Number.isFinite(perRound)).toBe(true);
      expect(perHour).toBeCloseTo((perRound as number) * 6, 0);
    }
    expect(evaluation?.map((r) => r[0])).toEqual(['64', '128']);
    for (const row of evaluation ?? []) for (const x of row.map(Number)) expect(Number.isFinite(x)).toBe(true);
    expect(stdout).toMatch(/^ {2}cpu share [\d.]+, rss steady -?\d+ MB, rss peak -?\d+ MB$/m);
    expect(stdout).toMatch(/^ {2}\[(met|not met)\] under half a core/m);
    expect(stdout).toMatch(/^ {2}\[(met|not met)\] evaluation flat in blocks per country/m);
  }, 120_000);
});
