import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample, startDaemon, type Daemon } from '../e2e/harness.js';

// The shipped default config, started where there is no internet at all: a private network
// namespace with only loopback and no route, so not one packet can leave the machine. The
// daemon must start, say plainly that its controls are unreachable, and keep serving metrics.

const DEFAULT_CONFIG = resolve(import.meta.dirname, '../../config/lookout.yaml');
let daemon: Daemon;

beforeAll(async () => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  // Belt and braces: no route but loopback may exist here.
  expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).trim()).toBe('');
  expect(execFileSync('ip', ['-6', 'route', 'show'], { encoding: 'utf8' }).trim()).toMatch(/^(::1 dev lo[^\n]*)?$/);
  daemon = await startDaemon(DEFAULT_CONFIG, 9464, { LOG_LEVEL: 'info' });
});

afterAll(() => {
  daemon?.proc.kill('SIGKILL');
});

describe('the default config with no internet', () => {
  it('logs that the controls are unreachable', async () => {
    const line = await daemon.waitForLog((l) => l.msg.startsWith('controls unreachable'), 25_000);
    expect(line.level).toBe('warn');
    expect(line.msg).toBe('controls unreachable: this vantage point appears to have no internet connectivity');
    expect(line.controls).toBe(line.failing);
    expect(line.controls).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('keeps serving metrics, with the controls failing', async () => {
    const text = await daemon.metrics();
    expect(sample(text, 'lookout_probe_success', { target: 'ctl-cloudflare-dns' })).toBe(0);
    expect(sample(text, 'lookout_build_info')).toBe(1);
    expect((await fetch('http://127.0.0.1:9464/healthz')).status).toBe(200);
    expect((await fetch('http://127.0.0.1:9464/readyz')).status).toBe(200);
  });

  it('exits 0 on SIGTERM', async () => {
    daemon.proc.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });
});
