import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sample, startDaemon, tempDir, type Daemon } from './harness.js';

// A running daemon is handed the five-mistakes config by SIGHUP and by POST /-/reload: it
// must report the problems, keep the old config and keep probing.

const FIVE = resolve(import.meta.dirname, '../fixtures/config/five-mistakes');
const TOKEN = 'e2e-admin-token-0123456789';

let listener: Server;
let accepts = 0;
let daemon: Daemon;
let dir: string;

function goodConfig(apiPort: number, tcpPort: number): string {
  return `
vantage: { id: e2e-reload, country: KZ }
server: { listen: "127.0.0.1:${apiPort}", admin_token: "${TOKEN}" }
schedule: { interval: 1s, timeout: 500ms, confirm_delay: 200ms }
targets:
  - { id: loop-tcp-1, kind: tcp, host: 127.0.0.1, port: ${tcpPort} }
  - { id: loop-tcp-2, kind: tcp, host: 127.0.0.1, port: ${tcpPort} }
`;
}

async function probesSoFar(): Promise<number> {
  return sample(await daemon.metrics(), 'lookout_probes_total', { kind: 'tcp' }) ?? 0;
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

beforeAll(async () => {
  listener = createServer((s) => {
    accepts++;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const tcpPort = (listener.address() as { port: number }).port;
  const apiPort = await freePort();
  dir = tempDir();
  cpSync(FIVE, dir, { recursive: true });
  writeFileSync(join(dir, 'config/good.yaml'), goodConfig(apiPort, tcpPort));
  cpSync(join(dir, 'config/good.yaml'), join(dir, 'config/live.yaml'));
  daemon = await startDaemon(join(dir, 'config/live.yaml'), apiPort);
});

afterAll(async () => {
  daemon?.proc.kill('SIGKILL');
  await new Promise<void>((r) => listener.close(() => r()));
});

describe('reload with a broken config', () => {
  it('keeps probing with the old config after SIGHUP, and says why', async () => {
    await waitFor(async () => (await probesSoFar()) >= 2);
    writeFileSync(join(dir, 'config/live.yaml'), readFileSync(join(dir, 'config/lookout.yaml')));
    daemon.proc.kill('SIGHUP');
    const failed = await daemon.waitForLog((l) => l.msg === 'config reload failed; keeping the running config');
    expect(failed.problems).toHaveLength(5);
    const text = await daemon.metrics();
    expect(sample(text, 'lookout_config_last_reload_successful')).toBe(0);
    expect(sample(text, 'lookout_config_reloads_total', { result: 'failure' })).toBe(1);
    const before = await probesSoFar();
    const acceptsBefore = accepts;
    await waitFor(async () => (await probesSoFar()) >= before + 2);
    expect(accepts).toBeGreaterThanOrEqual(acceptsBefore + 2);
    expect(sample(await daemon.metrics(), 'lookout_probe_success', { target: 'loop-tcp-1' })).toBe(1);
  });

  it('answers POST /-/reload with 401 without the token and 400 with the problems', async () => {
    const url = `http://127.0.0.1:${daemon.port}/-/reload`;
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { status: string; problems: string[] };
    expect(body.status).toBe('error');
    expect(body.problems).toHaveLength(5);
    expect(body.problems).toContain('schedule.timout: unknown key (did you mean "timeout"?)');
  });

  it('takes a fixed config again and sets the reload gauge back to 1', async () => {
    writeFileSync(join(dir, 'config/live.yaml'), readFileSync(join(dir, 'config/good.yaml')));
    const res = await fetch(`http://127.0.0.1:${daemon.port}/-/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(sample(await daemon.metrics(), 'lookout_config_last_reload_successful')).toBe(1);
  });

  it('exits 0 on SIGTERM', async () => {
    daemon.proc.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });
});
