import { request as httpRequest, Agent } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { Writable } from 'node:stream';
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedTarget } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';
import { LookoutRegistry } from '../../src/metrics/lookout-registry.js';
import { createMetrics } from '../../src/metrics/lookout-metrics.js';
import { SeriesGauge } from '../../src/metrics/series-gauge.js';
import { createServer, type LookoutServer, type ReloadResult, type ServerOptions } from '../../src/server/server.js';

const TOKEN = 'correct-horse-battery-staple';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over a fresh connection to 127.0.0.1. */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function json(a: Answer): unknown {
  expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(a.body);
}

/** A logger whose JSON lines are kept for inspection. */
function capturedLogger(): { log: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger('debug', sink), lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const started: LookoutServer[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close(0)));
});

async function start(over: Partial<ServerOptions> = {}): Promise<{ port: number; server: LookoutServer }> {
  const server = createServer({
    listen: '127.0.0.1:0',
    adminToken: null,
    registry: new Registry(),
    ready: () => true,
    reload: () => Promise.resolve({ ok: true, problems: [] }),
    log: capturedLogger().log,
    ...over,
  });
  started.push(server);
  const addr = await server.listen();
  expect(addr.host).toBe('127.0.0.1');
  return { port: addr.port, server };
}

function tcpTarget(id: string): ResolvedTarget {
  return { id, kind: 'tcp', host: '127.0.0.1', port: 443, country: 'KZ', category: 'government', asn: 9198, control: false, file: 'kz.yaml' };
}

describe('health endpoints', () => {
  it('/healthz answers 200 ok while the process serves', async () => {
    const { port } = await start({ ready: () => false });
    const a = await call(port, 'GET', '/healthz');
    expect(a.status).toBe(200);
    expect(a.body).toBe('ok\n');
  });

  it('/readyz follows the ready callback: 503, then 200', async () => {
    let ready = false;
    const { port } = await start({ ready: () => ready });
    expect((await call(port, 'GET', '/readyz')).status).toBe(503);
    ready = true;
    const a = await call(port, 'GET', '/readyz');
    expect(a.status).toBe(200);
    expect(a.body).toBe('ready\n');
  });

  it('answers HEAD like GET without a body', async () => {
    const { port } = await start();
    const a = await call(port, 'HEAD', '/healthz');
    expect(a.status).toBe(200);
    expect(a.body).toBe('');
  });
});

describe('/metrics', () => {
  it('serves the registry with its content type, after recordProbe, with in-flight read at scrape time', async () => {
    let inFlight = 7;
    const ok = tcpTarget('kz-kt-443');
    const bad = tcpTarget('kz-beeline-443');
    const metrics = createMetrics({ vantage: 'fra-1', version: '1.2.3', nodeVersion: 'v20.20.0', targets: () => [ok, bad], inFlight: () => inFlight });
    metrics.recordProbe({ target: ok.id, kind: 'tcp', ok: true, reason: null, phases: { connect: 0.012, total: 0.012 }, ip: '127.0.0.1', at: 0 }, ok);
    metrics.recordProbe({ target: bad.id, kind: 'tcp', ok: false, reason: 'tcp_reset', phases: { total: 0.003 }, ip: '127.0.0.1', at: 0 }, bad);
    const { port } = await start({ registry: metrics.registry });

    const a = await call(port, 'GET', '/metrics');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe(metrics.registry.contentType);
    const lines = a.body.split('\n');
    expect(lines).toContain('lookout_probe_success{target="kz-kt-443",country="KZ",asn="9198",category="government",kind="tcp",vantage="fra-1"} 1');
    expect(lines).toContain('lookout_probe_success{target="kz-beeline-443",country="KZ",asn="9198",category="government",kind="tcp",vantage="fra-1"} 0');
    expect(lines).toContain('lookout_probe_failures_total{target="kz-beeline-443",country="KZ",kind="tcp",reason="tcp_reset",vantage="fra-1"} 1');
    expect(lines).toContain('lookout_probes_in_flight{vantage="fra-1"} 7');
    expect(lines).toContain('lookout_targets{kind="tcp",vantage="fra-1"} 2');
    const samples = lines.filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.filter((l) => !l.includes('vantage="fra-1"'))).toEqual([]);

    inFlight = 0;
    expect((await call(port, 'GET', '/metrics')).body.split('\n')).toContain('lookout_probes_in_flight{vantage="fra-1"} 0');
  });

  it.each([
    { registry: 'a plain prom-client registry', make: (): Registry => new Registry() },
    { registry: 'the daemon registry (streamed)', make: (): Registry => new LookoutRegistry() },
  ])('answers 500 with a JSON error and a log line when collection fails ($registry)', async ({ make }) => {
    const registry = make();
    new Gauge({ name: 'ok_gauge', help: 'A gauge registered before the broken one.', registers: [registry] }).set(1);
    new Gauge({
      name: 'broken_gauge',
      help: 'A gauge whose collect throws.',
      registers: [registry],
      collect() {
        throw new Error('collector exploded');
      },
    });
    const logs = capturedLogger();
    const { port } = await start({ registry, log: logs.log });
    const a = await call(port, 'GET', '/metrics');
    expect(a.status).toBe(500);
    expect(json(a)).toEqual({ error: 'metrics collection failed' });
    expect(logs.lines().map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('metrics collection failed');
  });
});

describe('/metrics streamed from the daemon registry', () => {
  /** A daemon registry with `n` per-target series (several pieces of the exposition). */
  function bigRegistry(n: number): LookoutRegistry {
    const registry = new LookoutRegistry();
    registry.setDefaultLabels({ vantage: 'fra-1' });
    const g = new SeriesGauge({ name: 'test_target_up', help: 'Up.', labelNames: ['target'], registers: [registry] });
    for (let i = 0; i < n; i++) g.series({ target: `t-${i}` }).set(i % 2);
    new Gauge({ name: 'test_after', help: 'A plain gauge after the big one.', registers: [registry] }).set(3);
    return registry;
  }

  it('answers chunked, without Content-Length, with exactly the registry text', async () => {
    const registry = bigRegistry(30_000);
    const { port } = await start({ registry });
    const a = await call(port, 'GET', '/metrics');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe(registry.contentType);
    expect(a.headers['transfer-encoding']).toBe('chunked');
    expect(a.headers['content-length']).toBeUndefined();
    expect(a.body).toBe(await registry.metrics());
    expect(a.body.split('\n')).toContain('test_target_up{target="t-29999",vantage="fra-1"} 1');
    expect(a.body.endsWith('test_after{vantage="fra-1"} 3\n')).toBe(true);
    const head = await call(port, 'HEAD', '/metrics');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('takes a client that goes away mid-answer in its stride: nothing logged, the next scrape served whole', async () => {
    const registry = bigRegistry(200_000);
    const logs = capturedLogger();
    const { port } = await start({ registry, log: logs.log });
    // Read the first bytes, then cut the connection while the server still has most to write.
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
      req.end();
    });
    const a = await call(port, 'GET', '/metrics');
    expect(a.status).toBe(200);
    expect(a.body).toBe(await registry.metrics());
    expect(logs.lines()).toEqual([]);
  });
});

describe('unknown paths and wrong methods', () => {
  it('answers 404 JSON for an unknown path', async () => {
    const { port } = await start();
    const a = await call(port, 'GET', '/nope?x=1');
    expect(a.status).toBe(404);
    expect(json(a)).toEqual({ error: 'not found' });
    expect((await call(port, 'GET', '/metrics/')).status).toBe(404);
  });

  it('answers 405 JSON with Allow for a wrong method', async () => {
    const { port } = await start();
    const post = await call(port, 'POST', '/metrics');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(json(post)).toEqual({ error: 'method not allowed' });
    const get = await call(port, 'GET', '/-/reload');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });
});

describe('POST /-/reload', () => {
  it('needs no token when none is configured', async () => {
    let reloads = 0;
    const { port } = await start({
      reload: () => {
        reloads += 1;
        return Promise.resolve({ ok: true, problems: [] });
      },
    });
    const a = await call(port, 'POST', '/-/reload');
    expect(a.status).toBe(200);
    expect(json(a)).toEqual({ status: 'success' });
    expect(reloads).toBe(1);
  });

  it('refuses a missing or wrong token with 401 and accepts the right one, never logging either', async () => {
    let reloads = 0;
    const logs = capturedLogger();
    const { port } = await start({
      adminToken: TOKEN,
      log: logs.log,
      reload: () => {
        reloads += 1;
        return Promise.resolve({ ok: true, problems: [] });
      },
    });
    const wrong: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong-token-of-other-length' },
      { Authorization: `Bearer ${TOKEN.slice(0, -1)}X` },
      { Authorization: `Basic ${TOKEN}` },
      { Authorization: TOKEN },
      { Authorization: `Bearer ${TOKEN}extra` },
    ];
    for (const headers of wrong) {
      const a = await call(port, 'POST', '/-/reload', headers);
      expect(a.status).toBe(401);
      expect(a.headers['www-authenticate']).toBe('Bearer');
      expect(json(a)).toEqual({ error: 'unauthorized' });
    }
    expect(reloads).toBe(0);

    const right = await call(port, 'POST', '/-/reload', { Authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    expect(json(right)).toEqual({ status: 'success' });
    expect(reloads).toBe(1);

    const logged = logs.lines().join('\n');
    expect(logged).toContain('reload refused');
    expect(logged).not.toContain(TOKEN.slice(0, 8));
    expect(logged).not.toMatch(/authorization|bearer/i);
  });

  it('answers 400 with the problems of a bad config', async () => {
    const outcome: ReloadResult = { ok: false, problems: ['targets.0.port: must be at most 65535', 'vantage.id: required'] };
    const { port } = await start({ adminToken: TOKEN, reload: () => Promise.resolve(outcome) });
    const a = await call(port, 'POST', '/-/reload', { Authorization: `Bearer ${TOKEN}` });
    expect(a.status).toBe(400);
    expect(json(a)).toEqual({ status: 'error', problems: outcome.problems });
  });

  it('answers 500 with a log line when the reload callback rejects', async () => {
    const logs = capturedLogger();
    const { port } = await start({ log: logs.log, reload: () => Promise.reject(new Error('disk on fire')) });
    const a = await call(port, 'POST', '/-/reload');
    expect(a.status).toBe(500);
    expect(json(a)).toEqual({ error: 'internal error' });
    const line = logs.lines().map((l) => JSON.parse(l) as { msg: string; path?: string }).find((l) => l.msg === 'request handler failed');
    expect(line?.path).toBe('/-/reload');
  });
});

describe('extra routes', () => {
  it('serves extra GET routes as JSON with their query, 500 when a handler throws', async () => {
    const { port } = await start({
      routes: {
        '/api/v1/events': (query) => ({ status: 200, body: { events: [], active: query.get('active'), country: query.get('country') } }),
        '/api/v1/status': () => {
          throw new Error('not ready yet');
        },
      },
    });
    const a = await call(port, 'GET', '/api/v1/events?active=true&country=KZ');
    expect(a.status).toBe(200);
    expect(json(a)).toEqual({ events: [], active: 'true', country: 'KZ' });
    expect((await call(port, 'POST', '/api/v1/events')).status).toBe(405);
    const broken = await call(port, 'GET', '/api/v1/status');
    expect(broken.status).toBe(500);
    expect(json(broken)).toEqual({ error: 'internal error' });
  });

  it('refuses to replace a built-in route', () => {
    expect(() =>
      createServer({
        listen: '127.0.0.1:0',
        adminToken: null,
        registry: new Registry(),
        ready: () => true,
        reload: () => Promise.resolve({ ok: true, problems: [] }),
        log: capturedLogger().log,
        routes: { '/metrics': () => ({ status: 200, body: {} }) },
      }),
    ).toThrow(/built in/);
  });
});

describe('listen and close', () => {
  it('rejects when the address is taken', async () => {
    const blocker: NetServer = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const server = createServer({
        listen: `127.0.0.1:${taken}`,
        adminToken: null,
        registry: new Registry(),
        ready: () => true,
        reload: () => Promise.resolve({ ok: true, problems: [] }),
        log: capturedLogger().log,
      });
      await expect(server.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('rejects a malformed listen address', async () => {
    const server = createServer({
      listen: 'localhost',
      adminToken: null,
      registry: new Registry(),
      ready: () => true,
      reload: () => Promise.resolve({ ok: true, problems: [] }),
      log: capturedLogger().log,
    });
    await expect(server.listen()).rejects.toThrow(/invalid listen address/);
  });

  it('closes idle keep-alive connections at once and stops accepting', async () => {
    const { port, server } = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await call(port, 'GET', '/healthz', {}, agent)).status).toBe(200);
      const idle = Object.values(agent.freeSockets).flat();
      expect(idle).toHaveLength(1);
      const socketClosed = new Promise<void>((resolve) => idle[0]?.once('close', () => resolve()));
      // A long grace: close must still finish promptly because the connection is idle.
      await server.close(60_000);
      await socketClosed;
      await expect(call(port, 'GET', '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
    }
  });

  it('cuts a request still running when the grace period ends', async () => {
    let entered!: () => void;
    const inReload = new Promise<void>((resolve) => (entered = resolve));
    const { port, server } = await start({
      reload: () => {
        entered();
        return new Promise<ReloadResult>(() => {});
      },
    });
    const pending = call(port, 'POST', '/-/reload');
    await inReload;
    await server.close(50);
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
