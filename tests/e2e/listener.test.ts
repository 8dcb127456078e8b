import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDaemon, tempDir, type Daemon } from './harness.js';

// The real daemon's listener with its default limits: thousands of idle connections on the
// metrics port, and secrets (the admin token, a probe's header values) that must never show
// in a log line or an API answer, whatever is asked.

const TOKEN = 'admin-token-never-to-be-seen-0x5f3759df';
const PROBE_SECRET = 'probe-header-secret-e1e2e3e4';
const PROBE_KEY = 'probe-api-key-77aa88bb';

let daemon: Daemon;
let dir: string;
let apiPort: number;
let target: HttpServer;
let seenHeaders: Record<string, string | string[] | undefined> = {};

function config(extra = ''): string {
  const targetPort = (target.address() as { port: number }).port;
  return `
vantage: { id: e2e-listener }
server: { listen: "127.0.0.1:${apiPort}", admin_token: "${TOKEN}" }
storage: { dir: ./data }
schedule: { interval: 1s, timeout: 500ms, confirm_delay: 200ms }
targets:
  - id: secret-http
    kind: http
    url: http://127.0.0.1:${targetPort}/
    country: KZ
    headers: { Authorization: "Bearer ${PROBE_SECRET}", X-Api-Key: "${PROBE_KEY}" }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${targetPort} }
${extra}`;
}

function rssMb(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

beforeAll(async () => {
  target = createHttpServer((req, res) => {
    seenHeaders = req.headers;
    res.end('ok');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  apiPort = await freePort();
  dir = tempDir();
  writeFileSync(join(dir, 'lookout.yaml'), config());
  daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'debug' });
});

afterAll(async () => {
  daemon?.proc.kill('SIGKILL');
  await new Promise<void>((r) => target.close(() => r()));
});

describe('the metrics port under 2,000 idle connections', () => {
  it('keeps serving, stays within bounded memory, and closes them all by itself', async () => {
    const pid = daemon.proc.pid as number;
    const rssBefore = rssMb(pid);
    const fdsBefore = fds(pid);
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    try {
      // In batches of 250: 2,000 SYNs at once overflow the listen backlog, and the kernel's
      // SYN retries (1 s, 3 s, 7 s...) would measure the backlog, not the daemon.
      for (let batch = 0; batch < 8; batch++) {
        const opened: Promise<void>[] = [];
        for (let i = 0; i < 250; i++) {
          const s = connect(apiPort, '127.0.0.1');
          s.on('error', () => undefined);
          closed.push(new Promise((r) => s.once('close', () => r())));
          opened.push(new Promise<void>((r) => {
            s.once('connect', () => r());
            s.once('close', () => r());
          }));
          sockets.push(s);
        }
        await Promise.all(opened);
      }
      expect(sockets.filter((s) => s.readyState === 'open').length).toBeGreaterThanOrEqual(1950);
      const metrics = await fetch(`http://127.0.0.1:${apiPort}/metrics`);
      expect(metrics.status).toBe(200);
      await metrics.text();
      // The kernel completes the handshakes at once; the daemon accepts them as its loop gets to
      // them (later on a busy machine): watch for the count to reach them all.
      let most = fds(pid);
      for (const end = Date.now() + 8_000; most < fdsBefore + 1900 && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 100));
        most = Math.max(most, fds(pid));
      }
      expect(most).toBeGreaterThanOrEqual(fdsBefore + 1900);
      // Loose: an idle connection costs the daemon a few kilobytes, not megabytes.
      expect(rssMb(pid) - rssBefore).toBeLessThan(100);
      // The idle timeout (10 s) closes every one of them.
      const t0 = Date.now();
      await Promise.all(closed);
      expect(Date.now() - t0).toBeLessThan(25_000);
      expect(fds(pid)).toBeLessThan(fdsBefore + 50);
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 60_000);
});

describe('secrets', () => {
  it('never show in a log line or an API answer', async () => {
    // The probe does send them: they are real secrets in transit.
    await daemon.waitForLog((l) => l.msg === 'lookout started');
    const end = Date.now() + 10_000;
    while (seenHeaders['x-api-key'] === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(seenHeaders).toMatchObject({ authorization: `Bearer ${PROBE_SECRET}`, 'x-api-key': PROBE_KEY });

    const answers: string[] = [];
    const ask = async (path: string, init: RequestInit = {}): Promise<number> => {
      const res = await fetch(`http://127.0.0.1:${apiPort}${path}`, init);
      answers.push(JSON.stringify([...res.headers]), await res.text());
      return res.status;
    };
    for (const path of ['/metrics', '/api/v1/status', '/api/v1/events', '/healthz', '/readyz', '/nope']) await ask(path);
    expect(await ask('/-/reload', { method: 'POST' })).toBe(401);
    expect(await ask('/-/reload', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}x` } })).toBe(401);
    expect(await ask('/-/reload', { method: 'POST', headers: { authorization: `Basic ${TOKEN}` } })).toBe(401);
    expect(await ask('/-/reload', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).toBe(200);
    // A bad config whose problems name fields around the secrets.
    writeFileSync(join(dir, 'lookout.yaml'), config(`  - { id: bad, kind: http, url: "not a url ${PROBE_SECRET}", headers: { "bad header": "${PROBE_KEY}" } }\n`));
    expect(await ask('/-/reload', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).toBe(400);
    writeFileSync(join(dir, 'lookout.yaml'), config());
    expect(await ask('/-/reload', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).toBe(200);
    await daemon.waitForLog((l) => l.msg === 'config reload failed; keeping the running config');

    const logs = `${daemon.logs.map((l) => JSON.stringify(l)).join('\n')}\n${daemon.stderr.join('')}`;
    for (const secret of [TOKEN, PROBE_SECRET, PROBE_KEY]) {
      expect(logs).not.toContain(secret);
      for (const answer of answers) expect(answer).not.toContain(secret);
    }
    expect(daemon.logs.filter((l) => /reload/.test(l.msg)).length).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
