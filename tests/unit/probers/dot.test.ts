import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DotTarget, type DotResolved } from '../../../src/config/schema.js';
import { createDotProber } from '../../../src/probers/dot.js';
import { createResolver } from '../../../src/probers/resolver.js';
import type { ProbeContext, ProbeResult } from '../../../src/probers/types.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';
import { startDotServer } from '../../fixtures/encdns-servers.js';
import { closedPort, faultServer, listen, type Running } from '../../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../../fixtures/tls-certs.js';

// A real DoT server on loopback in front of the scriptable DNS server: every answer below comes
// through TLS. Answer data uses documentation ranges and bogons; answers are never dialled.

let certs: TestCerts;
let dns: FakeDnsServer;
let dot: Running;
let resetting: Running;
const running: Running[] = [];

beforeAll(async () => {
  certs = makeTestCerts();
  dns = await startDnsServer({
    'localhost': { kind: 'answer', A: ['127.0.0.1'] },
    'ok.test': { kind: 'answer', A: ['203.0.113.5'], AAAA: ['2001:db8::5'] },
    'nx.test': { kind: 'rcode', rcode: 'NXDOMAIN' },
    'servfail.test': { kind: 'rcode', rcode: 'SERVFAIL' },
    'empty.test': { kind: 'empty' },
    'zero.test': { kind: 'answer', A: ['0.0.0.0'] },
    'elsewhere.test': { kind: 'answer', A: ['198.51.100.7'] },
    'silent.test': { kind: 'silent' },
    'wrong-id.test': { kind: 'mismatch', mismatch: 'wrong-id' },
    'decoy.test': { kind: 'decoy', decoy: 'wrong-id', A: ['203.0.113.30'] },
    'loop.test': { kind: 'malformed', malformed: 'compression-loop', A: ['203.0.113.9'] },
    'close.test': { kind: 'truncated', tcp: 'close' },
  });
  dot = await startDotServer({ upstream: dns, cert: certs.leaf });
  resetting = await startDotServer({ upstream: dns, cert: certs.leaf, fault: 'reset' });
  running.push(dot, resetting);
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

function target(name: string, fields: Record<string, unknown> = {}, expect: Record<string, unknown> = {}): DotResolved {
  const parsed = DotTarget.parse({ id: 'dot-t', kind: 'dot', server: `127.0.0.1:${dot.port}`, query: { name }, expect, ...fields });
  return { ...parsed, country: 'ZZ', category: 'test', file: 'test.yaml' };
}

function ctx(timeoutMs = 2000): ProbeContext {
  return { timeoutMs, signal: new AbortController().signal, resolver: createResolver([dns.address]) };
}

const probe = (t: DotResolved, c = ctx()): Promise<ProbeResult> => createDotProber({ ca: certs.ca })(t, c);

function expectFailure(r: ProbeResult, reason: ProbeResult['reason']): void {
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(false);
  expect(r.kind).toBe('dot');
  expect(r.phases.total).toBeGreaterThan(0);
}

describe('dot prober: answers', () => {
  it('verifies the certificate against the IP, queries over TLS and reports connect, tls, dns and total', async () => {
    const r = await probe(target('ok.test', {}, { answers_in: ['203.0.113.0/24'] }));
    expect(r).toMatchObject({ target: 'dot-t', kind: 'dot', ok: true, reason: null, ip: '127.0.0.1', cert_expiry: certs.leafNotAfter });
    for (const phase of ['connect', 'tls', 'dns', 'total'] as const) expect(r.phases[phase]).toBeGreaterThan(0);
    expect(r.phases.total).toBeGreaterThanOrEqual((r.phases.connect ?? 0) + (r.phases.tls ?? 0) + (r.phases.dns ?? 0));
    expect(dns.count('tcp', 'ok.test')).toBeGreaterThan(0);
  });

  it('resolves a server given by name, sends it as SNI, and keeps the lookup out of the dns phase', async () => {
    const r = await probe(target('ok.test', { server: `localhost:${dot.port}`, query: { name: 'ok.test', type: 'AAAA' } }));
    expect(r).toMatchObject({ ok: true, ip: '127.0.0.1' });
    expect(dns.count('udp', 'localhost')).toBeGreaterThan(0);
  });

  it('judges the answer with the dns rules: rcodes, NODATA, bogons, answers_in', async () => {
    expectFailure(await probe(target('nx.test')), 'dns_nxdomain');
    expectFailure(await probe(target('servfail.test')), 'dns_servfail');
    expectFailure(await probe(target('empty.test')), 'dns_no_answer');
    const bogon = await probe(target('zero.test'));
    expectFailure(bogon, 'dns_bogon_answer');
    expect(bogon.detail).toContain('0.0.0.0');
    expect(bogon.phases.dns).toBeGreaterThan(0);
    expectFailure(await probe(target('elsewhere.test', {}, { answers_in: ['203.0.113.0/24'] })), 'dns_unexpected_answer');
    expect((await probe(target('nx.test', {}, { rcode: 'NXDOMAIN' }))).ok).toBe(true);
  });

  it('skips a response with another id before the real one; only a wrong id is dns_mismatch', async () => {
    expect((await probe(target('decoy.test', {}, { answers_in: ['203.0.113.0/24'] }))).ok).toBe(true);
    expectFailure(await probe(target('wrong-id.test'), ctx(500)), 'dns_mismatch');
  });

  it('an undecodable answer is dns_malformed', async () => {
    expectFailure(await probe(target('loop.test'), ctx(500)), 'dns_malformed');
  });
});

describe('dot prober: transport faults', () => {
  it('a server that never answers the query: dns_timeout after the handshake', async () => {
    const r = await probe(target('silent.test'), ctx(400));
    expectFailure(r, 'dns_timeout');
    expect(r.phases.tls).toBeGreaterThan(0);
    expect(r.phases.total).toBeGreaterThanOrEqual(0.39);
  });

  it('a server that closes without answering: dns_timeout (as DNS over TCP)', async () => {
    expectFailure(await probe(target('close.test')), 'dns_timeout');
  });

  it('a reset after the encrypted query: tls_reset', async () => {
    const r = await probe(target('ok.test', { server: `127.0.0.1:${resetting.port}` }));
    expectFailure(r, 'tls_reset');
    expect(r.phases.tls).toBeGreaterThan(0);
  });

  it('a reset right after the ClientHello (SNI filtering): tls_reset; silence in the handshake: tls_timeout', async () => {
    const reset = await serve(faultServer('read-reset'));
    expectFailure(await probe(target('ok.test', { server: `127.0.0.1:${reset.port}`, sni: 'dns.example' })), 'tls_reset');
    const silent = await serve(faultServer('silent'));
    expectFailure(await probe(target('ok.test', { server: `127.0.0.1:${silent.port}` }), ctx(400)), 'tls_timeout');
  });

  it('nothing listening: tcp_refused; an untrusted certificate: tls_cert_invalid unless insecure_skip_verify', async () => {
    expectFailure(await probe(target('ok.test', { server: `127.0.0.1:${await closedPort()}` })), 'tcp_refused');
    const r = await createDotProber()(target('ok.test'), ctx());
    expectFailure(r, 'tls_cert_invalid');
    expect((await createDotProber()(target('ok.test', { insecure_skip_verify: true }), ctx())).ok).toBe(true);
  });

  it('a server name that does not resolve: a dns reason, nothing dialled', async () => {
    const r = await probe(target('ok.test', { server: `nx.test:${dot.port}` }));
    expectFailure(r, 'dns_nxdomain');
    expect(r.ip).toBeNull();
  });
});
