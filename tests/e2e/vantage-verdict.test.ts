import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sample, startDaemon, tempDir, type Daemon } from './harness.js';

// One verdict on the vantage's own connectivity: with 1 of 7 controls answering, the log line,
// lookout_vantage_online and /api/v1/status must all say offline, and say it together.

const servers: Server[] = [];
let daemon: Daemon;
let apiPort: number;

async function tcpServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { server, port: (server.address() as { port: number }).port };
}

async function waitFor<T>(get: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

async function views(): Promise<{ gauge: number | undefined; api: boolean | null }> {
  const gauge = sample(await daemon.metrics(), 'lookout_vantage_online');
  const status = (await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/status`)).json()) as { vantage: { online: boolean | null } };
  return { gauge, api: status.vantage.online };
}

beforeAll(async () => {
  const controls = await Promise.all(Array.from({ length: 7 }, () => tcpServer()));
  const home = await tcpServer();
  apiPort = await freePort();
  const dir = tempDir();
  const config = `
vantage: { id: e2e-vantage }
server: { listen: "127.0.0.1:${apiPort}" }
storage: { dir: ./data }
schedule: { interval: 1s, timeout: 500ms, confirm_delay: 200ms }
detection: { evaluate_every: 500ms }
targets:
${controls.map((c, i) => `  - { id: ctl-${i}, kind: tcp, host: 127.0.0.1, port: ${c.port}, control: true, country: US }`).join('\n')}
${[0, 1, 2].map((i) => `  - { id: kz-${i}, kind: tcp, host: 127.0.0.1, port: ${home.port}, country: KZ }`).join('\n')}
`;
  writeFileSync(join(dir, 'lookout.yaml'), config);
  daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
  // All seven controls answer first (each seen up): the vantage is online.
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/status`);
    const status = (await res.json()) as { targets: { id: string; state: string }[] };
    return status.targets.filter((t) => t.id.startsWith('ctl-') && t.state === 'up').length === 7 ? true : undefined;
  });
  await daemon.waitForLog((l) => l.msg === 'controls reachable', 5_000);
  expect(await views()).toEqual({ gauge: 1, api: true });
  // Then six of them stop listening: their probes are refused.
  await Promise.all(controls.slice(1).map((c) => new Promise((r) => c.server.close(r))));
}, 40_000);

afterAll(async () => {
  daemon?.proc.kill('SIGKILL');
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe('the vantage verdict with 1 of 7 controls answering', () => {
  it('the log, the gauge and the API all say offline', async () => {
    const line = await daemon.waitForLog((l) => l.msg.startsWith('controls unreachable'), 15_000);
    // The verdict comes as soon as enough controls are down (they fail one by one, each at its
    // own slot): at least half of the seven, every failure a refused connection.
    expect(line).toMatchObject({ level: 'warn', controls: 7 });
    expect(line.failing).toBeGreaterThanOrEqual(4);
    expect(line.reasons).toEqual({ tcp_refused: line.failing });
    const v = await waitFor(async () => {
      const x = await views();
      return x.gauge === 0 ? x : undefined;
    });
    expect(v).toEqual({ gauge: 0, api: false });
    // And it stays that way: no "controls reachable" after the warning while one control answers.
    await new Promise((r) => setTimeout(r, 3_000));
    const after = daemon.logs.slice(daemon.logs.indexOf(line) + 1);
    expect(after.filter((l) => l.msg === 'controls reachable')).toEqual([]);
    expect(await views()).toEqual({ gauge: 0, api: false });
  }, 30_000);
});
