import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledBench } from '../fixtures/bench-build.js';

// The soak benchmark (bench/soak) for two minutes at a small size, so that its scripts never rot.
// It asserts only that the run printed a row per minute with finite figures and the three goal
// lines, never anything about the figures themselves. Needs dist/ (npm run build) and the compiled
// benchmarks (npm run build:bench).

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  if (!existsSync(resolve(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run npm run build first');
});

describe('bench/soak for two minutes', () => {
  it('prints a row per minute and the verdict lines', async () => {
    const { stdout } = await run(process.execPath, [compiledBench('soak/run'), '--minutes', '2', '--targets', '100', '--reload-every', '20'], {
      cwd: ROOT,
      timeout: 240_000,
    });
    expect(stdout).toContain('Soak: the daemon under steady load, hostile and flapping targets, reloads and polling');
    expect(stdout).toContain('100 targets (80 healthy, 10 hostile, 10 flapping)');
    const lines = stdout.split('\n');
    const dashes = lines.findIndex((l) => /^\s*-+(\s+-+)+$/.test(l));
    expect(dashes).toBeGreaterThan(0);
    const rows = lines.slice(dashes + 1, lines.indexOf('', dashes)).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[0])).toEqual(['1', '2']);
    for (const row of rows) {
      expect(row).toHaveLength(14);
      for (const cell of row) expect(Number.isFinite(Number(cell))).toBe(true);
      // minute, CPU %, load, RSS, heap, fds, loop p99, idle p99, sched p99, probes/s
      expect(Number(row[3])).toBeGreaterThan(0);
      expect(Number(row[5])).toBeGreaterThan(0);
      expect(Number(row[9])).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/requests: [1-9]\d* reloads ok, 0 failed; [1-9]\d* API polls ok/);
    expect(stdout).toMatch(/^ {2}\[(met|not met)\] RSS flat after warm-up/m);
    expect(stdout).toMatch(/^ {2}\[(met|not met)\] open descriptors flat after warm-up/m);
    expect(stdout).toMatch(/^ {2}\[(met|not met)\] event-loop lag p99 under 50 ms/m);
  }, 250_000);
});
