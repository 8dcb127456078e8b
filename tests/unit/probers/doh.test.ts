import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dnsPacket from 'dns-packet';
import { DohTarget, type DohResolved } from '../../../src/config/schema.js';
import { createDohProber, requestPath } from '../../../src/probers/doh.js';
import { createResolver } from '../../../src/probers/resolver.js';
import type { ProbeContext, ProbeResult } from '../../../src/probers/types.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';
import { startDohServer, type DohServer } from '../../fixtures/encdns-servers.js';
import { closedPort, faultServer, listen, type Running } from '../../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../../fixtures/tls-certs.js';

// A real DoH server (node:http2, h2 and http/1.1) on loopback in front of the scriptable DNS
// server. Answer data uses documentation ranges and bogons; answers are never dialled.

let certs: TestCerts;
let dns: FakeDnsServer;
let doh: DohServer;
const running: Running[] = [];

beforeAll(async () => {
  certs = makeTestCerts();
  dns = await startDnsServer({
    'localhost': { kind: 'answer', A: ['127.0.0.1'] },
    'ok.test': { kind: 'answer', A: ['203.0.113.5'], AAAA: ['2001:db8::5'] },
    'nx.test': { kind: 'rcode', rcode: 'NXDOMAIN' },
    'refused.test': { kind: 'rcode', rcode: 'REFUSED' },
    'empty.test': { kind: 'empty' },
    'zero.test': { kind: 'answer', A: ['0.0.0.0'] },
    'elsewhere.test': { kind: 'answer', A: ['198.51.100.7'] },
    'silent.test': { kind: 'silent' },
    'wrong-id.test': { kind: 'mismatch', mismatch: 'wrong-id' },
    'wrong-q.test': { kind: 'mismatch', mismatch: 'wrong-question' },
    'loop.test': { kind: 'malformed', malformed: 'compression-loop', A: ['203.0.113.9'] },
  });
  doh = await startDohServer({ upstream: dns, cert: certs.leaf });
  running.push(doh);
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
  await dns.close();
  certs.cleanup();
});

async function serve(server: Parameters<typeof listen>[0]): Promise<Running> {
  const s = await listen(server);
  running.push(s);
  return s;
}

function target(name: string, fields: Record<string, unknown> = {}, expect: Record<string, unknown> = {}): DohResolved {
  const parsed = DohTarget.parse({ id: 'doh-t', kind: 'doh', url: doh.url('/dns-query'), query: { name }, expect, ...fields });
  return { ...parsed, country: 'ZZ', category: 'test', file: 'test.yaml' };
}

function ctx(timeoutMs = 2000): ProbeContext {
  return { timeoutMs, signal: new AbortController().signal, resolver: createResolver([dns.address]) };
}

const probe = (t: DohResolved, c = ctx()): Promise<ProbeResult> => createDohProber({ ca: certs.ca })(t, c);

function expectFailure(r: ProbeResult, reason: ProbeResult['reason']): void {
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(false);
  expect(r.kind).toBe('doh');
  expect(r.phases.total).toBeGreaterThan(0);
}

describe('doh: the request', () => {
  it('GET carries the query as ?dns= in base64url without padding, after any query string', () => {
    const wire = Buffer.from([0xfb, 0xff, 0x01]);
    expect(requestPath(new URL('https://dns.example/dns-query'), 'GET', wire)).toBe('/dns-query?dns=-_8B');
    expect(requestPath(new URL('https://dns.example/q?x=1'), 'GET', wire)).toBe('/q?x=1&dns=-_8B');
    expect(requestPath(new URL('https://dns.example/dns-query'), 'POST', wire)).toBe('/dns-query');
  });

  it('POST is the default method; GET is accepted; anything else is a config error', () => {
    expect(target('ok.test').method).toBe('POST');
    expect(target('ok.test', { method: 'GET' }).method).toBe('GET');
    expect(() => DohTarget.parse({ id: 'd', kind: 'doh', url: 'http://dns.example/dns-query', query: { name: 'a.test' } })).toThrow(/https:\/\//);
    expect(() => DohTarget.parse({ id: 'd', kind: 'doh', url: 'https://dns.example/dns-query', method: 'PUT', query: { name: 'a.test' } })).toThrow();
  });
});

describe('doh prober: answers', () => {
  it('POST over h2: ok, with connect, tls, dns and total, status 200 and the cert expiry', async () => {
    const before = doh.requests.length;
    const r = await probe(target('ok.test', {}, { answers_in: ['203.0.113.0/24'] }));
    expect(r).toMatchObject({ target: 'doh-t', kind: 'doh', ok: true, reason: null, ip: '127.0.0.1', status: 200, cert_expiry: certs.leafNotAfter });
    for (const phase of ['connect', 'tls', 'dns', 'total'] as const) expect(r.phases[phase]).toBeGreaterThan(0);
    expect(doh.requests.slice(before)).toEqual([{ method: 'POST', path: '/dns-query', httpVersion: '2.0' }]);
  });

  it('GET, and a URL host name resolved through the probe resolver (sent as SNI and verified)', async () => {
    const before = doh.requests.length;
    const url = `https://localhost:${doh.port}/dns-query`;
    const r = await probe(target('ok.test', { method: 'GET', url, query: { name: 'ok.test', type: 'AAAA' } }, { answers_in: ['2001:db8::/32'] }));
    expect(r).toMatchObject({ ok: true, ip: '127.0.0.1', status: 200 });
    expect(doh.requests.slice(before)).toEqual([{ method: 'GET', path: '/dns-query', httpVersion: '2.0' }]);
    // `ip` skips the lookup.
    expect((await probe(target('ok.test', { url, ip: '127.0.0.1' }))).ok).toBe(true);
  });

  it('judges the answer with the dns rules: rcodes, NODATA, bogons, answers_in', async () => {
    expectFailure(await probe(target('nx.test')), 'dns_nxdomain');
    expectFailure(await probe(target('refused.test')), 'dns_refused');
    expectFailure(await probe(target('empty.test')), 'dns_no_answer');
    const bogon = await probe(target('zero.test', { method: 'GET' }));
    expectFailure(bogon, 'dns_bogon_answer');
    expect(bogon.status).toBe(200);
    expectFailure(await probe(target('elsewhere.test', {}, { answers_in: ['203.0.113.0/24'] })), 'dns_unexpected_answer');
  });

  it('a response to another query (id or question) is dns_mismatch; an undecodable one dns_malformed', async () => {
    expectFailure(await probe(target('wrong-id.test')), 'dns_mismatch');
    expectFailure(await probe(target('wrong-q.test')), 'dns_mismatch');
    expectFailure(await probe(target('loop.test')), 'dns_malformed');
  });
});

describe('doh prober: HTTP and transport faults', () => {
  const at = (path: string, name = 'ok.test'): DohResolved => target(name, { url: doh.url(path) });

  it('a status outside 2xx is http_status; a body that is not a DNS message is dns_malformed', async () => {
    const r = await probe(at('/status-500'));
    expectFailure(r, 'http_status');
    expect(r.status).toBe(500);
    const html = await probe(at('/html'));
    expectFailure(html, 'dns_malformed');
    expect(html.detail).toContain('text/html');
    expectFailure(await probe(at('/garbage')), 'dns_malformed');
  });

  it('a server that never answers: http_timeout; a reset after the request: http_reset', async () => {
    const stall = await probe(at('/stall'), ctx(400));
    expectFailure(stall, 'http_timeout');
    expect(stall.phases.tls).toBeGreaterThan(0);
    expect(stall.phases.total).toBeGreaterThanOrEqual(0.39);
    // Upstream silence is the same stall seen from the client.
    expectFailure(await probe(target('silent.test'), ctx(400)), 'http_timeout');
    expectFailure(await probe(at('/reset')), 'http_reset');
    expectFailure(await probe(at('/close')), 'http_reset');
    // HTTP/2's own reset of the one stream.
    expectFailure(await probe(at('/refuse')), 'http_reset');
  });

  it('garbage in place of HTTP, over h2 and over http/1.1: http_protocol_error', async () => {
    const { createServer } = await import('node:tls');
    for (const alpn of ['h2', 'http/1.1']) {
      const garbage = await serve(
        createServer({ ...certs.leaf, ALPNProtocols: [alpn] }, (socket) => {
          socket.on('error', () => undefined);
          socket.once('data', () => socket.write(Buffer.alloc(64, 0x5a)));
        }),
      );
      const r = await probe(target('ok.test', { url: `https://127.0.0.1:${garbage.port}/dns-query` }));
      expectFailure(r, 'http_protocol_error');
    }
  });

  it('handshake faults: tls_reset after the ClientHello, tls_timeout on silence, tls_cert_invalid unless insecure_skip_verify', async () => {
    const reset = await serve(faultServer('read-reset'));
    expectFailure(await probe(target('ok.test', { url: `https://127.0.0.1:${reset.port}/dns-query` })), 'tls_reset');
    const silent = await serve(faultServer('silent'));
    expectFailure(await probe(target('ok.test', { url: `https://127.0.0.1:${silent.port}/dns-query` }), ctx(400)), 'tls_timeout');
    expectFailure(await createDohProber()(target('ok.test'), ctx()), 'tls_cert_invalid');
    expect((await createDohProber()(target('ok.test', { insecure_skip_verify: true }), ctx())).ok).toBe(true);
  });

  it('nothing listening: tcp_refused; a URL host that does not resolve: a dns reason', async () => {
    expectFailure(await probe(target('ok.test', { url: `https://127.0.0.1:${await closedPort()}/dns-query` })), 'tcp_refused');
    const r = await probe(target('ok.test', { url: `https://nx.test:${doh.port}/dns-query` }));
    expectFailure(r, 'dns_nxdomain');
    expect(r.ip).toBeNull();
  });

  it('speaks HTTP/1.1 to a server that offers no h2', async () => {
    const { createServer } = await import('node:https');
    const h1 = await serve(
      createServer({ ...certs.leaf }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const q = dnsPacket.decode(Buffer.concat(chunks));
          const answer = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', name: 'ok.test', ttl: 60, data: '203.0.113.5' }] });
          res.writeHead(200, { 'content-type': 'application/dns-message; charset=binary' }).end(answer);
        });
      }),
    );
    const r = await probe(target('ok.test', { url: `https://127.0.0.1:${h1.port}/dns-query` }));
    expect(r, r.detail).toMatchObject({ ok: true, status: 200 });
  });
});
