import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTarget, type HttpResolved } from '../../../src/config/schema.js';
import { createHttpProber } from '../../../src/probers/http.js';
import { createResolver } from '../../../src/probers/resolver.js';
import type { ProbeContext, ProbeResult } from '../../../src/probers/types.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';
import { closedPort, faultServer, listen, type Running } from '../../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../../fixtures/tls-certs.js';

const BLOCKPAGE = 'Access to this resource is restricted';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  alpn: string | false | null;
}

let certs: TestCerts;
let dns: FakeDnsServer;
let http: Running;
let https: Running;
let selfSigned: Running;
const seen: Seen[] = [];
/** Set by /endless: whether the server was still writing when the client went away. */
const endless = { closedWhileWriting: false, bytesWritten: 0, done: Promise.resolve() };
const others: Running[] = [];

/** The test site: one route per behaviour. */
function site(req: IncomingMessage, res: ServerResponse): void {
  seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, alpn: (req.socket as Partial<TLSSocket>).alpnProtocol ?? null });
  const url = req.url ?? '/';
  if (url === '/ok') {
    res.end('<html>welcome to the service</html>');
  } else if (url === '/error') {
    res.writeHead(500).end('oops');
  } else if (url === '/moved') {
    res.writeHead(302, { location: '/ok' }).end();
  } else if (url.startsWith('/hop/')) {
    const n = Number(url.slice('/hop/'.length));
    res.writeHead(302, { location: n > 1 ? `/hop/${n - 1}` : '/ok' }).end();
  } else if (url === '/blocked-200') {
    res.end(`<html><h1>${BLOCKPAGE}</h1></html>`);
  } else if (url === '/blocked-451') {
    res.writeHead(451).end(`<html><h1>${BLOCKPAGE}</h1></html>`);
  } else if (url === '/late-blockpage') {
    // The blockpage text sits past the first 64 KiB.
    res.end(`${'x'.repeat(100 * 1024)}${BLOCKPAGE}`);
  } else if (url === '/trickle') {
    // Headers at once, then one byte every 50 ms, for ever: only the deadline ends the probe.
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('.'), 50);
    res.on('close', () => clearInterval(timer));
  } else if (url === '/endless') {
    let resolveDone = (): void => undefined;
    endless.done = new Promise((r) => (resolveDone = r));
    endless.bytesWritten = 0;
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk)) endless.bytesWritten += chunk.length;
    };
    res.on('drain', pump);
    res.on('close', () => {
      endless.closedWhileWriting = !res.writableEnded;
      resolveDone();
    });
    pump();
  } else {
    res.writeHead(404).end('not found');
  }
}

beforeAll(async () => {
  certs = makeTestCerts();
  dns = await startDnsServer({
    'localhost': { kind: 'answer', A: ['127.0.0.1'] },
    'svc.test': { kind: 'answer', A: ['127.0.0.1'] },
    'nx.test': { kind: 'rcode', rcode: 'NXDOMAIN' },
  });
  http = await listen(createHttpServer(site));
  https = await listen(createHttpsServer(certs.leaf, site));
  selfSigned = await listen(createHttpsServer(certs.selfSigned, site));
});

afterAll(async () => {
  await Promise.all([http, https, selfSigned, ...others].map((s) => s.close()));
  await dns.close();
  certs.cleanup();
});

async function fault(kind: Parameters<typeof faultServer>[0]): Promise<Running> {
  const s = await listen(faultServer(kind));
  others.push(s);
  return s;
}

function target(url: string, fields: Record<string, unknown> = {}): HttpResolved {
  return { ...HttpTarget.parse({ id: 'http-t', kind: 'http', url, ...fields }), country: 'ZZ', category: 'test', file: 'test.yaml' };
}

function ctx(timeoutMs = 3000, signal = new AbortController().signal): ProbeContext {
  return { timeoutMs, signal, resolver: createResolver([dns.address]) };
}

const probe = (t: HttpResolved, c = ctx()): Promise<ProbeResult> => createHttpProber({ ca: certs.ca })(t, c);
const plain = (path: string, host = '127.0.0.1'): string => `http://${host}:${http.port}${path}`;
const secure = (path: string, host = 'localhost'): string => `https://${host}:${https.port}${path}`;

function expectFailure(r: ProbeResult, reason: ProbeResult['reason']): void {
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(false);
  expect(r.phases.total).toBeGreaterThan(0);
}

describe('http prober: success', () => {
  it('http by name: dns, connect, ttfb and total, the dialled ip and the status', async () => {
    const r = await probe(target(plain('/ok', 'svc.test')));
    expect(r).toMatchObject({ target: 'http-t', kind: 'http', ok: true, reason: null, status: 200, ip: '127.0.0.1' });
    for (const phase of ['dns', 'connect', 'ttfb', 'total'] as const) expect(r.phases[phase]).toBeGreaterThan(0);
    expect(r.phases.tls).toBeUndefined();
    expect(r.cert_expiry).toBeUndefined();
  });

  it('https: all five phases, ALPN http/1.1, the cert expiry', async () => {
    const before = seen.length;
    const r = await probe(target(secure('/ok')));
    expect(r).toMatchObject({ ok: true, status: 200, ip: '127.0.0.1', cert_expiry: certs.leafNotAfter });
    for (const phase of ['dns', 'connect', 'tls', 'ttfb', 'total'] as const) expect(r.phases[phase]).toBeGreaterThan(0);
    const total = r.phases.total ?? 0;
    expect(total).toBeGreaterThanOrEqual((r.phases.dns ?? 0) + (r.phases.connect ?? 0) + (r.phases.tls ?? 0) + (r.phases.ttfb ?? 0));
    expect(seen.slice(before).map((s) => s.alpn)).toEqual(['http/1.1']);
  });

  it('opens a fresh connection for every probe', async () => {
    const s = await listen(createHttpServer(site));
    others.push(s);
    const t = target(`http://127.0.0.1:${s.port}/ok`);
    for (let i = 0; i < 3; i++) expect((await probe(t)).ok).toBe(true);
    expect(s.connections()).toBe(3);
  });

  it('sends the Host override and custom headers; the ip override skips dns', async () => {
    const before = seen.length;
    const r = await probe(
      target(plain('/ok', 'nowhere.test'), { ip: '127.0.0.1', host: 'blocked.example', headers: { 'X-Probe': 'lookout', 'Accept-Language': 'kk' } }),
    );
    expect(r.ok, r.detail).toBe(true);
    expect(r.phases.dns).toBeUndefined();
    expect(r.ip).toBe('127.0.0.1');
    const got = seen.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]?.headers).toMatchObject({ host: 'blocked.example', 'x-probe': 'lookout', 'accept-language': 'kk' });
  });

  it('without a Host override the URL host (and port) is the Host header', async () => {
    const before = seen.length;
    expect((await probe(target(plain('/ok', 'svc.test')))).ok).toBe(true);
    expect(seen.slice(before)[0]?.headers.host).toBe(`svc.test:${http.port}`);
  });

  it('HEAD sends a HEAD request and needs no body', async () => {
    const before = seen.length;
    const r = await probe(target(plain('/ok'), { method: 'HEAD', expect: { body_contains: 'never there' } }));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(seen.slice(before).map((s) => s.method)).toEqual(['HEAD']);
  });

  it('a 302 in the status range is a success while redirects are not followed', async () => {
    const before = seen.length;
    const r = await probe(target(plain('/moved')));
    expect(r).toMatchObject({ ok: true, status: 302 });
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/moved']);
  });

  it('follow_redirects follows hops on fresh connections', async () => {
    const s = await listen(createHttpServer(site));
    others.push(s);
    const r = await probe(target(`http://127.0.0.1:${s.port}/hop/3`, { follow_redirects: true, expect: { status: 200 } }));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(s.connections()).toBe(4);
  });

  it('more than 5 redirects is http_status', async () => {
    const r = await probe(target(plain('/hop/9'), { follow_redirects: true }));
    expectFailure(r, 'http_status');
    expect(r.status).toBe(302);
  });

  it('https with a self-signed certificate: tls_cert_invalid, and ok with insecure_skip_verify', async () => {
    const url = `https://localhost:${selfSigned.port}/ok`;
    expectFailure(await probe(target(url)), 'tls_cert_invalid');
    const r = await probe(target(url, { insecure_skip_verify: true }));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.cert_expiry).toBeGreaterThan(Date.now() / 1000);
  });

  it('https to an IP with sni set verifies against the sni', async () => {
    const r = await probe(target(secure('/ok', '127.0.0.1'), { sni: 'localhost' }));
    expect(r.ok, r.detail).toBe(true);
    expectFailure(await probe(target(secure('/ok', '127.0.0.1'), { sni: 'www.example.test' })), 'tls_cert_invalid');
  });
});

describe('http prober: verdicts', () => {
  it('http_status for a 500', async () => {
    const r = await probe(target(plain('/error')));
    expectFailure(r, 'http_status');
    expect(r.status).toBe(500);
  });

  it('http_blockpage for blockpage text in a 200', async () => {
    const r = await probe(target(plain('/blocked-200'), { expect: { body_not_contains: BLOCKPAGE } }));
    expectFailure(r, 'http_blockpage');
    expect(r.status).toBe(200);
  });

  it('http_blockpage before http_status for blockpage text in a 451', async () => {
    const r = await probe(target(secure('/blocked-451'), { expect: { body_not_contains: BLOCKPAGE } }));
    expectFailure(r, 'http_blockpage');
    expect(r.status).toBe(451);
  });

  it('http_body_mismatch when the expected text is missing; ok when present', async () => {
    expectFailure(await probe(target(plain('/ok'), { expect: { body_contains: 'the real site' } })), 'http_body_mismatch');
    expect((await probe(target(plain('/ok'), { expect: { body_contains: 'welcome' } }))).ok).toBe(true);
  });

  it('reads no further than body_limit: text past the cap is not seen', async () => {
    const t = (limit: number): HttpResolved => target(plain('/late-blockpage'), { body_limit: limit, expect: { body_not_contains: BLOCKPAGE } });
    expect((await probe(t(64 * 1024))).ok).toBe(true);
    expectFailure(await probe(t(1024 * 1024)), 'http_blockpage');
  });

  it('an endless body: the probe reads its cap and hangs up while the server is still writing', async () => {
    // A verdict, not http_timeout: the probe did not wait for the end of the body.
    const r = await probe(target(plain('/endless'), { expect: { body_contains: 'never there' } }), ctx(5000));
    expectFailure(r, 'http_body_mismatch');
    expect(r.detail).toBe(`expected text not in the first ${64 * 1024} bytes`);
    await endless.done;
    expect(endless.closedWhileWriting).toBe(true);
  });
});

describe('http prober: failures', () => {
  it('http_timeout: the server accepts and never answers; the probe ends at its deadline', async () => {
    const s = await fault('silent');
    const t0 = performance.now();
    const r = await probe(target(`http://127.0.0.1:${s.port}/`), ctx(300));
    expect(performance.now() - t0).toBeLessThan(1000);
    expectFailure(r, 'http_timeout');
    expect(r.phases.connect).toBeGreaterThan(0);
    expect(r.phases.ttfb).toBeUndefined();
  });

  it('http_timeout: a body that trickles past the deadline while a body check waits for it', async () => {
    const t0 = performance.now();
    const r = await probe(target(plain('/trickle'), { expect: { body_contains: 'never there' } }), ctx(300));
    expect(performance.now() - t0).toBeLessThan(1000);
    expectFailure(r, 'http_timeout');
    expect(r.status).toBe(200);
    expect(r.phases.ttfb).toBeGreaterThan(0);
    expect(r.detail).toBe('no answer within 300 ms');
  });

  it('http_reset: the server reads the request and resets', async () => {
    const s = await fault('read-reset');
    expectFailure(await probe(target(`http://127.0.0.1:${s.port}/`)), 'http_reset');
  });

  it('http_reset: the server reads the request and closes without answering', async () => {
    const s = await fault('read-end');
    expectFailure(await probe(target(`http://127.0.0.1:${s.port}/`)), 'http_reset');
  });

  it('tls failures of https: tls_reset, tls_eof, tls_timeout', async () => {
    expectFailure(await probe(target(`https://127.0.0.1:${(await fault('read-reset')).port}/`)), 'tls_reset');
    expectFailure(await probe(target(`https://127.0.0.1:${(await fault('read-end')).port}/`)), 'tls_eof');
    expectFailure(await probe(target(`https://127.0.0.1:${(await fault('silent')).port}/`), ctx(300)), 'tls_timeout');
  });

  it('tcp_refused, tcp_reset and dns_nxdomain', async () => {
    expectFailure(await probe(target(`http://127.0.0.1:${await closedPort()}/`)), 'tcp_refused');
    expectFailure(await probe(target(`http://127.0.0.1:${(await fault('reset')).port}/`)), 'tcp_reset');
    const nx = await probe(target('http://nx.test/'));
    expectFailure(nx, 'dns_nxdomain');
    expect(nx.ip).toBeNull();
  });

  it('a name answered only with 0.0.0.0 is dns_bogon_answer and never dialled', async () => {
    dns.set('zero.test', { kind: 'answer', A: ['0.0.0.0'] });
    const before = seen.length;
    const r = await probe(target('http://zero.test/ok'));
    expectFailure(r, 'dns_bogon_answer');
    expect(r.ip).toBeNull();
    expect(seen.length).toBe(before);
  });

  it('stops promptly when the daemon aborts', async () => {
    const s = await fault('silent');
    const stop = new AbortController();
    const pending = probe(target(`http://127.0.0.1:${s.port}/`), ctx(10_000, stop.signal));
    setTimeout(() => stop.abort(), 100);
    const t0 = performance.now();
    const r = await pending;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('probe aborted');
  });
});
