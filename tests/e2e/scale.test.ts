import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sample, startDaemon, tempDir, type Daemon } from './harness.js';

// The built daemon with 1,000 loopback TCP targets at a 10 s interval: the listener records
// when each probe connects. Start times must be spread evenly over the interval (no burst),
// and SIGTERM must end the daemon with exit 0 in under 5 s.

const TARGETS = 1000;
const INTERVAL_S = 10;

let listener: Server;
const accepts: number[] = [];
let daemon: Daemon;

beforeAll(async () => {
  listener = createServer((s) => {
    accepts.push(Date.now());
    s.destroy();
  });
  listener.maxConnections = 10_000;
  await new Promise<void>((r) => listener.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  const tcpPort = (listener.address() as { port: number }).port;
  const apiPort = await freePort();
  const lines = [
    'vantage: { id: e2e-scale, country: KZ }',
    `server: { listen: "127.0.0.1:${apiPort}" }`,
    `schedule: { interval: ${INTERVAL_S}s, timeout: 2s, concurrency: 256, confirm_delay: 1s }`,
    'targets:',
  ];
  for (let i = 0; i < TARGETS; i++) {
    lines.push(`  - { id: t-${String(i).padStart(4, '0')}, kind: tcp, host: 127.0.0.1, port: ${tcpPort} }`);
  }
  const dir = tempDir();
  writeFileSync(join(dir, 'lookout.yaml'), lines.join('\n') + '\n');
  daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
});

afterAll(async () => {
  daemon?.proc.kill('SIGKILL');
  await new Promise<void>((r) => listener.close(() => r()));
});

describe('1,000 targets at a 10 s interval', () => {
  it('spreads probe starts evenly over the interval', async () => {
    // Skip the first second (start-up), then watch one full interval.
    const from = Date.now() + 1000;
    const to = from + INTERVAL_S * 1000;
    await new Promise((r) => setTimeout(r, to - Date.now() + 300));
    const window = accepts.filter((t) => t >= from && t < to);
    // Every target once per interval (a handful may straddle the window edges).
    expect(window.length).toBeGreaterThanOrEqual(TARGETS - 15);
    expect(window.length).toBeLessThanOrEqual(TARGETS + 15);
    const perSecond = new Array<number>(INTERVAL_S).fill(0);
    const per100ms = new Array<number>(INTERVAL_S * 10).fill(0);
    for (const t of window) {
      perSecond[Math.floor((t - from) / 1000)]! += 1;
      per100ms[Math.floor((t - from) / 100)]! += 1;
    }
    const mean = window.length / INTERVAL_S;
    for (const n of perSecond) expect(Math.abs(n - mean)).toBeLessThanOrEqual(mean * 0.3);
    // No burst: the busiest 100 ms holds at most 3x its share.
    expect(Math.max(...per100ms)).toBeLessThanOrEqual((mean / 10) * 3);

    const text = await daemon.metrics();
    expect(sample(text, 'lookout_probe_skipped_total')).toBeUndefined();
    expect(sample(text, 'lookout_probe_success', { target: 't-0999' })).toBe(1);
  }, 30_000);

  it('exits 0 within 5 s of SIGTERM', async () => {
    const sent = Date.now();
    daemon.proc.kill('SIGTERM');
    const code = await daemon.exited;
    const took = Date.now() - sent;
    expect(code).toBe(0);
    expect(took).toBeLessThan(5000);
    expect(daemon.logs.some((l) => l.msg === 'lookout stopped')).toBe(true);
  });
});
