import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledBench } from '../fixtures/bench-build.js';

// The per-probe cost benchmark (bench/probe-cost) at a tiny size, so that its scripts never rot. It
// asserts only that the run produced a well-formed table with finite numbers, never anything about
// speed. Needs dist/ (npm run build), the compiled benchmarks (npm run build:bench) and
// prometheus-blackbox-exporter.

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  if (!existsSync(resolve(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run npm run build first');
});

/** The data rows of the first table in the output (the lines after the dashes, up to a blank line). */
function firstTableRows(out: string): string[][] {
  const lines = out.split('\n');
  const dashes = lines.findIndex((l) => /^-+(\s+-+)+$/.test(l));
  expect(dashes).toBeGreaterThan(0);
  const rows: string[][] = [];
  for (const line of lines.slice(dashes + 1)) {
    if (line.trim() === '') break;
    rows.push(line.trim().split(/\s+/));
  }
  return rows;
}

/** Every row: nine columns, probes done, none failed, every figure a finite number. */
function expectProbedRows(rows: readonly string[][]): void {
  for (const row of rows) {
    expect(row).toHaveLength(9);
    const [probes, failed, ...figures] = row.slice(2).map(Number);
    expect(probes).toBeGreaterThan(0);
    expect(failed).toBe(0);
    for (const x of figures) expect(Number.isFinite(x)).toBe(true);
  }
}

describe('bench/probe-cost at tiny size', () => {
  it.each([
    { mode: 'each prober alone', args: [] },
    // --lookout names the checkout to measure (here this one, as a before/after run would).
    { mode: 'both probers at once', args: ['--together', '--lookout', ROOT] },
  ])('prints a table with finite figures for both probers ($mode)', async ({ mode, args }) => {
    const { stdout } = await run(
      process.execPath,
      [compiledBench('probe-cost/run'), '--targets', '5', '--rate', '10', '--seconds', '2', '--warmup', '1', '--kinds', 'tcp', ...args],
      { cwd: ROOT, timeout: 50_000 },
    );
    expect(stdout).toContain('Per-probe CPU cost: Lookout vs blackbox_exporter');
    expect(stdout).toContain(mode);
    expect(stdout).toMatch(/^blackbox_exporter: .*version/m);
    expect(stdout).toMatch(/^lookout: \. at [0-9a-f]{7,}/m);

    const rows = firstTableRows(stdout);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['tcp', 'lookout'],
      ['tcp', 'blackbox_exporter'],
    ]);
    expectProbedRows(rows);
    expect(stdout).toMatch(/^tcp\s+>= 2x\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{2}x$/m);
  }, 60_000);

  it('measures dot beside blackbox_exporter (dns_over_tls) and doh for Lookout alone', async () => {
    const { stdout } = await run(
      process.execPath,
      [compiledBench('probe-cost/run'), '--targets', '5', '--rate', '10', '--seconds', '2', '--warmup', '1', '--kinds', 'dot,doh', '--together'],
      { cwd: ROOT, timeout: 50_000 },
    );
    const rows = firstTableRows(stdout);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['dot', 'lookout'],
      ['dot', 'blackbox_exporter'],
      ['doh', 'lookout'],
    ]);
    expectProbedRows(rows);
    expect(stdout).toMatch(/^dot\s+-\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{2}x$/m);
    expect(stdout).toContain('doh: blackbox_exporter has no DNS-over-HTTPS prober');
  }, 60_000);

  it('measures icmp beside blackbox_exporter\'s icmp prober, fping runs counted as Lookout CPU', async () => {
    const { stdout } = await run(
      process.execPath,
      [compiledBench('probe-cost/run'), '--targets', '5', '--rate', '10', '--seconds', '2', '--warmup', '1', '--kinds', 'icmp'],
      { cwd: ROOT, timeout: 50_000 },
    );
    const rows = firstTableRows(stdout);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['icmp', 'lookout'],
      ['icmp', 'blackbox_exporter'],
    ]);
    expectProbedRows(rows);
    expect(stdout).toMatch(/^icmp\s+>= 2x\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{2}x$/m);
  }, 60_000);

  it('with --poll-page, measures Lookout alone and Lookout polled at once, and prints the difference in %', async () => {
    const { stdout } = await run(
      process.execPath,
      [compiledBench('probe-cost/run'), '--targets', '5', '--rate', '10', '--seconds', '3', '--warmup', '1', '--kinds', 'tcp', '--poll-page'],
      { cwd: ROOT, timeout: 50_000 },
    );
    expect(stdout).toContain('both daemons at once');
    expect(stdout).toMatch(/^page polled: every 1 s on the lookout\+page daemon \(\/, \/api\/v1\/status, \/api\/v1\/series, \/metrics\)/m);
    const rows = firstTableRows(stdout);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['tcp', 'lookout'],
      ['tcp', 'lookout+page'],
    ]);
    expectProbedRows(rows);
    // kind, goal, without, with, difference, polls ok, polls failed, KiB a round: every poll answered.
    const diff = /^tcp\s+<= \+1%\s+(\d+\.\d{3})\s+(\d+\.\d{3})\s+([+-]\d+\.\d)%\s+(\d+)\s+(\d+)\s+(\d+\.\d)$/m.exec(stdout);
    expect(diff, stdout).not.toBeNull();
    const [without, withPage, percent, ok, failed] = (diff ?? []).slice(1, 6).map(Number);
    expect(percent).toBeCloseTo(((withPage ?? NaN) / (without ?? NaN) - 1) * 100, 0);
    expect(ok).toBeGreaterThanOrEqual(4 * 3);
    expect(failed).toBe(0);
  }, 60_000);

  it('refuses a --lookout checkout that has not been built, naming the file it needs', async () => {
    const err: unknown = await run(process.execPath, [compiledBench('probe-cost/run'), '--lookout', resolve(ROOT, 'tests'), '--kinds', 'tcp'], {
      cwd: ROOT,
      timeout: 20_000,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain(`probe-cost: --lookout: ${resolve(ROOT, 'tests')}/dist/main.js does not exist (run npm run build there)`);
  });
});
