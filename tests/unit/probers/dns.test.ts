import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsTarget, type DnsResolved } from '../../../src/config/schema.js';
import { probeDns } from '../../../src/probers/dns.js';
import { createResolver } from '../../../src/probers/resolver.js';
import type { HostResolver, ProbeContext, ProbeResult } from '../../../src/probers/types.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';

// Answer data uses the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
// 2001:db8::/32) and bogons; the dns prober never dials an answer, only the loopback server.

let dns: FakeDnsServer;

beforeAll(async () => {
  dns = await startDnsServer({
    'ok.test': { kind: 'answer', A: ['203.0.113.5', '203.0.113.6'], AAAA: ['2001:db8::5'] },
    'nx.test': { kind: 'rcode', rcode: 'NXDOMAIN' },
    'servfail.test': { kind: 'rcode', rcode: 'SERVFAIL' },
    'refused.test': { kind: 'rcode', rcode: 'REFUSED' },
    'formerr.test': { kind: 'rcode', rcode: 'FORMERR' },
    'silent.test': { kind: 'silent' },
    'empty.test': { kind: 'empty' },
    'v4only.test': { kind: 'answer', A: ['203.0.113.7'] },
    'zero.test': { kind: 'answer', A: ['0.0.0.0'] },
    'loop.test': { kind: 'answer', A: ['127.0.0.1'] },
    'loop6.test': { kind: 'answer', AAAA: ['::1'] },
    'mixed.test': { kind: 'answer', A: ['203.0.113.8', '127.10.34.35'] },
    'elsewhere.test': { kind: 'answer', A: ['198.51.100.7'] },
    'big.test': { kind: 'truncated', A: ['203.0.113.20', '203.0.113.21'] },
    'decoy-id.test': { kind: 'decoy', decoy: 'wrong-id', A: ['203.0.113.30'] },
    'decoy-q.test': { kind: 'decoy', decoy: 'wrong-question', A: ['203.0.113.31'] },
  });
});

afterAll(async () => {
  await dns.close();
});

function target(query: { name: string; type?: string }, expect: Record<string, unknown> = {}, server = dns.address): DnsResolved {
  const parsed = DnsTarget.parse({ id: 'dns-t', kind: 'dns', server, query, expect });
  return { ...parsed, country: 'ZZ', category: 'test', file: 'test.yaml' };
}

function ctx(timeoutMs = 2000, signal = new AbortController().signal): ProbeContext {
  return { timeoutMs, signal, resolver: createResolver(['127.0.0.1:1']) };
}

function expectFailure(r: ProbeResult, reason: ProbeResult['reason']): void {
  expect(r.ok).toBe(false);
  expect(r.reason).toBe(reason);
  expect(r.kind).toBe('dns');
  expect(r.phases.total).toBeGreaterThanOrEqual(0);
}

describe('probeDns over UDP', () => {
  it('succeeds when every answer is inside answers_in', async () => {
    const before = Date.now();
    const r = await probeDns(target({ name: 'ok.test' }, { answers_in: ['203.0.113.0/24'] }), ctx());
    expect(r).toMatchObject({ target: 'dns-t', kind: 'dns', ok: true, reason: null, ip: '127.0.0.1' });
    expect(r.at).toBeGreaterThanOrEqual(before);
    expect(r.phases.dns).toBeGreaterThan(0);
    expect(r.phases.total).toBeGreaterThanOrEqual(r.phases.dns ?? 0);
    expect(r.detail).toBeUndefined();
  });

  it('succeeds for a plain answer without expectations, including AAAA', async () => {
    expect((await probeDns(target({ name: 'OK.test.' }), ctx())).ok).toBe(true);
    expect((await probeDns(target({ name: 'ok.test', type: 'AAAA' }, { answers_in: ['2001:db8::/32'] }), ctx())).ok).toBe(true);
  });

  it('reports NXDOMAIN, SERVFAIL and REFUSED by name', async () => {
    const nx = await probeDns(target({ name: 'nx.test' }), ctx());
    expectFailure(nx, 'dns_nxdomain');
    expect(nx.detail).toContain('NXDOMAIN');
    expect(nx.phases.dns).toBeGreaterThan(0);
    expectFailure(await probeDns(target({ name: 'servfail.test' }), ctx()), 'dns_servfail');
    expectFailure(await probeDns(target({ name: 'refused.test' }), ctx()), 'dns_refused');
  });

  it('counts any other unexpected rcode as dns_servfail', async () => {
    expectFailure(await probeDns(target({ name: 'formerr.test' }), ctx()), 'dns_servfail');
  });

  it('accepts NXDOMAIN when that is the expected rcode, and flags an answer instead', async () => {
    const r = await probeDns(target({ name: 'nx.test' }, { rcode: 'NXDOMAIN' }), ctx());
    expect(r).toMatchObject({ ok: true, reason: null });
    expectFailure(await probeDns(target({ name: 'ok.test' }, { rcode: 'NXDOMAIN' }), ctx()), 'dns_unexpected_answer');
  });

  it('gives dns_timeout from a silent server within the deadline', async () => {
    const started = Date.now();
    const r = await probeDns(target({ name: 'silent.test' }), ctx(300));
    const elapsed = Date.now() - started;
    expectFailure(r, 'dns_timeout');
    expect(r.ip).toBe('127.0.0.1');
    expect(r.phases.dns).toBeUndefined();
    expect(r.detail).toBe('no response within 300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
  });

  it('stops promptly when the daemon aborts the probe', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 100);
    const r = await probeDns(target({ name: 'silent.test' }), ctx(10_000, ac.signal));
    expectFailure(r, 'dns_timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('returns at once when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const queriesBefore = dns.count();
    expectFailure(await probeDns(target({ name: 'ok.test' }), ctx(10_000, ac.signal)), 'dns_timeout');
    expect(dns.count()).toBe(queriesBefore);
  });

  it('gives dns_no_answer for NOERROR without an answer of the queried type', async () => {
    expectFailure(await probeDns(target({ name: 'empty.test' }), ctx()), 'dns_no_answer');
    expectFailure(await probeDns(target({ name: 'v4only.test', type: 'AAAA' }), ctx()), 'dns_no_answer');
  });

  it('flags bogon answers (0.0.0.0, 127.0.0.1, ::1) and names them in detail', async () => {
    const zero = await probeDns(target({ name: 'zero.test' }), ctx());
    expectFailure(zero, 'dns_bogon_answer');
    expect(zero.detail).toBe('answers: 0.0.0.0');
    const loop = await probeDns(target({ name: 'loop.test' }), ctx());
    expectFailure(loop, 'dns_bogon_answer');
    expect(loop.detail).toBe('answers: 127.0.0.1');
    expectFailure(await probeDns(target({ name: 'loop6.test', type: 'AAAA' }), ctx()), 'dns_bogon_answer');
  });

  it('flags a bogon among good answers, before any answers_in check', async () => {
    const r = await probeDns(target({ name: 'mixed.test' }, { answers_in: ['198.51.100.0/24'] }), ctx());
    expectFailure(r, 'dns_bogon_answer');
    expect(r.detail).toBe('answers: 203.0.113.8, 127.10.34.35');
  });

  it('allows a bogon listed in answers_in', async () => {
    const r = await probeDns(target({ name: 'loop.test' }, { answers_in: ['127.0.0.0/8'] }), ctx());
    expect(r).toMatchObject({ ok: true, reason: null });
  });

  it('gives dns_unexpected_answer for an answer outside answers_in', async () => {
    const r = await probeDns(target({ name: 'elsewhere.test' }, { answers_in: ['203.0.113.0/24'] }), ctx());
    expectFailure(r, 'dns_unexpected_answer');
    expect(r.detail).toBe('answers: 198.51.100.7');
  });

  it('ignores responses with another id or another question and takes the real one', async () => {
    const expected = { answers_in: ['203.0.113.0/24'] };
    expect(await probeDns(target({ name: 'decoy-id.test' }, expected), ctx())).toMatchObject({ ok: true, reason: null });
    expect(await probeDns(target({ name: 'decoy-q.test' }, expected), ctx())).toMatchObject({ ok: true, reason: null });
  });

  it('gives dns_refused when nothing listens on the UDP port (ICMP port unreachable)', async () => {
    const port = await closedUdpPort();
    const r = await probeDns(target({ name: 'ok.test' }, {}, `127.0.0.1:${port}`), ctx(2000));
    expectFailure(r, 'dns_refused');
    expect(r.ip).toBe('127.0.0.1');
    expect(r.detail).toContain('ECONNREFUSED');
  });
});

describe('probeDns over TCP', () => {
  it('retries a truncated UDP answer over TCP', async () => {
    const udpBefore = dns.count('udp', 'big.test');
    const tcpBefore = dns.count('tcp', 'big.test');
    const r = await probeDns(target({ name: 'big.test' }, { answers_in: ['203.0.113.0/24'] }), ctx());
    expect(r).toMatchObject({ ok: true, reason: null, ip: '127.0.0.1' });
    expect(dns.count('udp', 'big.test')).toBe(udpBefore + 1);
    expect(dns.count('tcp', 'big.test')).toBe(tcpBefore + 1);
  });

  it('judges the TCP answer like a UDP one', async () => {
    dns.set('big-bogon.test', { kind: 'truncated', A: ['127.0.0.9'] });
    const r = await probeDns(target({ name: 'big-bogon.test' }), ctx());
    expectFailure(r, 'dns_bogon_answer');
    expect(r.detail).toBe('answers: 127.0.0.9');
    expect(dns.count('tcp', 'big-bogon.test')).toBe(1);
  });

  it('keeps one deadline across UDP and a silent TCP retry', async () => {
    dns.set('tcp-silent.test', { kind: 'truncated', A: ['203.0.113.1'], tcp: 'silent' });
    const started = Date.now();
    const r = await probeDns(target({ name: 'tcp-silent.test' }), ctx(400));
    expectFailure(r, 'dns_timeout');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(dns.count('udp', 'tcp-silent.test')).toBe(1);
    expect(dns.count('tcp', 'tcp-silent.test')).toBe(1);
  });

  it('treats a TCP connection closed before the answer as no answer (dns_timeout)', async () => {
    dns.set('tcp-close.test', { kind: 'truncated', A: ['203.0.113.1'], tcp: 'close' });
    const r = await probeDns(target({ name: 'tcp-close.test' }), ctx(5000));
    expectFailure(r, 'dns_timeout');
    expect(r.detail).toContain('ECONNRESET');
    expect(dns.count('tcp', 'tcp-close.test')).toBe(1);
  });
});

describe('probeDns with a server given by name', () => {
  it('resolves the server name with the context resolver, then queries it', async () => {
    const seen: string[] = [];
    const resolver: HostResolver = {
      resolve: (host) => {
        seen.push(host);
        return Promise.resolve(['127.0.0.1']);
      },
    };
    const r = await probeDns(target({ name: 'ok.test' }, {}, `resolver.test:${dns.port}`), { ...ctx(), resolver });
    expect(r).toMatchObject({ ok: true, ip: '127.0.0.1' });
    expect(seen).toEqual(['resolver.test']);
  });

  it('classifies a failure to resolve the server name', async () => {
    const resolver: HostResolver = {
      resolve: () => Promise.reject(Object.assign(new Error('queryA ENOTFOUND resolver.test'), { code: 'ENOTFOUND' })),
    };
    const r = await probeDns(target({ name: 'ok.test' }, {}, `resolver.test:${dns.port}`), { ...ctx(), resolver });
    expectFailure(r, 'dns_nxdomain');
    expect(r.ip).toBeNull();
  });
});

/** A loopback UDP port with no socket bound to it (bound, noted, closed). */
async function closedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((res) => socket.bind(0, '127.0.0.1', () => res()));
  const { port } = socket.address();
  await new Promise<void>((res) => socket.close(() => res()));
  return port;
}
