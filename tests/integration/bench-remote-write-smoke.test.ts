import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledBench } from '../fixtures/bench-build.js';

// The remote write benchmarks (bench/remote-write) at a tiny size, so that their scripts never rot:
// the drain benchmark once kept passing an evaluation view the collector no longer took, and
// nothing noticed. These assert that each run completes with well-formed, finite figures (and, for
// the drain, that Prometheus holds every sample), never anything about speed. They need dist/ (npm
// run build), the compiled benchmarks (npm run build:bench) and, for the drain, Debian's prometheus
// (scripts/ensure-test-deps.sh).

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'lookout-rw-bench-smoke-'));

beforeAll(() => {
  if (!existsSync(resolve(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run npm run build first');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The numbers in the first line of `out` that starts with `prefix`. */
function figures(out: string, prefix: string): number[] {
  const line = out.split('\n').find((l) => l.startsWith(prefix));
  expect(line, `a line starting with "${prefix}" in:\n${out}`).toBeDefined();
  return [...(line as string).slice(prefix.length).matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

describe('bench/remote-write at tiny size', () => {
  it('run.ts drains a one-hour backlog of five targets into a real Prometheus, every sample there', async () => {
    const json = join(dir, 'drain.json');
    const { stdout } = await run(process.execPath, [compiledBench('remote-write/run'), '--targets', '5', '--hours', '1', '--countries', '2', '--batch', '200', '--json', json], {
      cwd: ROOT,
      timeout: 100_000,
    });
    expect(stdout).toMatch(/^drain: \d+\.\d s \(goal < 120 s\)/m);
    const { backlog, drain, check } = JSON.parse(readFileSync(json, 'utf8')) as {
      backlog: { samples: number };
      drain: Record<string, number>;
      check: { probeSuccessSamplesInPrometheus: number; expected: number };
    };
    for (const [key, value] of Object.entries(drain)) expect(Number.isFinite(value), key).toBe(true);
    expect(drain.samplesSent).toBe(backlog.samples);
    expect(drain.requests).toBe(Math.ceil(backlog.samples / 200));
    expect(drain.refused).toBe(0);
    expect(drain.samplesFailed).toBe(0);
    // One success sample per target per minute of the hour, all of them in Prometheus.
    expect(check.expected).toBe(5 * 60);
    expect(check.probeSuccessSamplesInPrometheus).toBe(check.expected);
  }, 120_000);

  it('encode-cost.ts times the encoder both ways with finite figures', async () => {
    const { stdout } = await run(process.execPath, [compiledBench('remote-write/encode-cost'), '--targets', '10', '--pauses', '1', '--pause-ms', '20'], { cwd: ROOT, timeout: 60_000 });
    const [series, samples, bytes] = figures(stdout, 'batch:');
    expect(series).toBe(50);
    expect(samples).toBe(150);
    expect(bytes).toBeGreaterThan(0);
    const [, , kept, afresh, snappy, raw] = figures(stdout, 'interleaved');
    for (const ms of [kept, afresh, snappy]) expect(Number.isFinite(ms) && (ms as number) >= 0).toBe(true);
    expect(raw).toBeGreaterThan(bytes as number);
  }, 60_000);

  it('queue-cost.ts prints the stage CPU per probe result', async () => {
    const { stdout } = await run(process.execPath, [compiledBench('remote-write/queue-cost')], { cwd: ROOT, timeout: 60_000 });
    const [cpu, user, system, wall] = figures(stdout, 'per probe:');
    expect(cpu).toBeGreaterThan(0);
    expect((user as number) + (system as number)).toBeCloseTo(cpu as number, 3);
    expect(wall).toBeGreaterThan(0);
  }, 60_000);
});
