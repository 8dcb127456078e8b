import { connect, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { createServer, DEFAULT_LIMITS, type LookoutServer, type ServerOptions } from '../../src/server/server.js';

// The listener against clients that misbehave: bodies too large, headers too large or too slow,
// connections that never send anything or come in too great a number. Short limits keep the
// test quick; the defaults are checked against the real daemon in tests/e2e/listener.test.ts.

const TOKEN = 'correct-horse-battery-staple';
const started: LookoutServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(started.splice(0).map((s) => s.close(0)));
});

async function start(over: Partial<ServerOptions> = {}): Promise<number> {
  const server = createServer({
    listen: '127.0.0.1:0',
    adminToken: TOKEN,
    registry: new Registry(),
    ready: () => true,
    reload: () => Promise.resolve({ ok: true, problems: [] }),
    log: silentLogger(),
    ...over,
  });
  started.push(server);
  return (await server.listen()).port;
}

/** A raw connection: what it received, and a promise settled when the server closed it. */
function raw(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Sends `text` on a fresh connection and resolves with everything the server sent until it closed. */
async function exchange(port: number, text: string | Buffer): Promise<string> {
  const c = await raw(port);
  c.socket.write(text);
  c.socket.on('error', () => undefined);
  await c.closed;
  return c.received();
}

const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);

describe('request bodies', () => {
  it('answers 413 to a reload with a declared body over the limit, without reloading, and closes', async () => {
    let reloads = 0;
    const port = await start({
      limits: { maxBodyBytes: 1024 },
      reload: () => {
        reloads += 1;
        return Promise.resolve({ ok: true, problems: [] });
      },
    });
    const answer = await exchange(
      port,
      `POST /-/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 10000000\r\n\r\n${'x'.repeat(4096)}`,
    );
    expect(statusOf(answer)).toBe(413);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('{"error":"request body larger than 1024 bytes"}');
    expect(reloads).toBe(0);
  });

  it('answers 413 to a chunked body that grows past the limit', async () => {
    let reloads = 0;
    const port = await start({
      limits: { maxBodyBytes: 1024 },
      reload: () => {
        reloads += 1;
        return Promise.resolve({ ok: true, problems: [] });
      },
    });
    const chunk = `400\r\n${'y'.repeat(1024)}\r\n`;
    const answer = await exchange(port, `POST /-/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}`);
    expect(statusOf(answer)).toBe(413);
    expect(reloads).toBe(0);
  });

  it('accepts a small body and still needs the token', async () => {
    const port = await start();
    const body = '{"please": "reload"}';
    const without = await exchange(port, `POST /-/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(statusOf(without)).toBe(401);
    const withToken = await exchange(
      port,
      `POST /-/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(statusOf(withToken)).toBe(200);
  });
});

describe('headers', () => {
  it('answers 431 to headers over the limit', async () => {
    const port = await start({ limits: { maxHeaderBytes: 4096 } });
    const answer = await exchange(port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'z'.repeat(8192)}\r\n\r\n`);
    expect(statusOf(answer)).toBe(431);
  });

  it('cuts a slowloris client whose headers never end, and keeps serving others meanwhile', async () => {
    const port = await start({ limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
    const c = await raw(port);
    c.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    let n = 0;
    const drip = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write(`X-${n++}: a\r\n`);
    }, 100);
    try {
      const healthy = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(healthy.status).toBe(200);
      const t0 = Date.now();
      await c.closed;
      // Closed by the server, within its header timeout plus the checking interval (1 s).
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect([0, 408]).toContain(statusOf(c.received()));
    } finally {
      clearInterval(drip);
    }
  });

  it('answers unknown methods and paths with clear status codes', async () => {
    const port = await start();
    expect(statusOf(await exchange(port, 'DELETE /-/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBe(405);
    expect(await exchange(port, 'PUT /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/\r\nallow: GET, HEAD\r\n/i);
    expect(statusOf(await exchange(port, 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBe(404);
    expect(statusOf(await exchange(port, 'BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(400);
    expect(statusOf(await exchange(port, '\u0000\u0001garbage\r\n\r\n'))).toBe(400);
  });
});

describe('connections', () => {
  it('closes connections that never send a byte once the idle timeout passes', async () => {
    const port = await start({ limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000, idleTimeoutMs: 1000 } });
    const idle = await Promise.all(Array.from({ length: 200 }, () => raw(port)));
    const t0 = Date.now();
    await Promise.all(idle.map((c) => c.closed));
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('closes connections past maxConnections at once and serves again once they are gone', async () => {
    const port = await start({ limits: { maxConnections: 50 } });
    const held = await Promise.all(Array.from({ length: 50 }, () => raw(port)));
    const extra = await Promise.all(Array.from({ length: 10 }, () => raw(port)));
    await Promise.all(extra.map((c) => c.closed));
    expect(extra.every((c) => c.received() === '')).toBe(true);
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('has defaults that bound every client', () => {
    expect(DEFAULT_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(DEFAULT_LIMITS.requestTimeoutMs);
    expect(DEFAULT_LIMITS.maxBodyBytes).toBeLessThanOrEqual(64 * 1024);
    expect(DEFAULT_LIMITS.maxConnections).toBeGreaterThanOrEqual(1024);
  });
});
