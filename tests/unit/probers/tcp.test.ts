import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsTarget, TcpTarget, type ResolvedTarget, type TcpResolved } from '../../../src/config/schema.js';
import { PROBERS, runProbe } from '../../../src/probers/registry.js';
import { createResolver } from '../../../src/probers/resolver.js';
import { probeTcp, RESET_WATCH_MS } from '../../../src/probers/tcp.js';
import type { ProbeContext, ProbeResult, Prober } from '../../../src/probers/types.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';
import { closedPort, faultServer, listen, type Running } from '../../fixtures/servers.js';

let dns: FakeDnsServer;
let open: Running;
const others: Running[] = [];

beforeAll(async () => {
  dns = await startDnsServer({
    'svc.test': { kind: 'answer', A: ['127.0.0.1'] },
    'nx.test': { kind: 'rcode', rcode: 'NXDOMAIN' },
    'slow.test': { kind: 'silent' },
  });
  open = await listen(createServer((socket) => socket.end()));
});

afterAll(async () => {
  await Promise.all([open, ...others].map((s) => s.close()));
  await dns.close();
});

function target(fields: Record<string, unknown>): TcpResolved {
  return { ...TcpTarget.parse({ id: 'tcp-t', kind: 'tcp', host: '127.0.0.1', port: open.port, ...fields }), country: 'ZZ', category: 'test', file: 'test.yaml' };
}

function ctx(timeoutMs = 2000, signal = new AbortController().signal): ProbeContext {
  return { timeoutMs, signal, resolver: createResolver([dns.address]) };
}

function expectFailure(r: ProbeResult, reason: ProbeResult['reason']): void {
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(false);
  expect(r.phases.total).toBeGreaterThan(0);
}

describe('tcp prober', () => {
  it('connects by name: dns, connect and total, the dialled ip', async () => {
    const before = Date.now();
    const r = await probeTcp(target({ host: 'svc.test' }), ctx());
    expect(r).toMatchObject({ target: 'tcp-t', kind: 'tcp', ok: true, reason: null, ip: '127.0.0.1' });
    expect(r.at).toBeGreaterThanOrEqual(before);
    for (const phase of ['dns', 'connect', 'total'] as const) expect(r.phases[phase]).toBeGreaterThan(0);
    expect(r.phases.total).toBeGreaterThanOrEqual((r.phases.dns ?? 0) + (r.phases.connect ?? 0));
  });

  it('an IP literal skips the dns phase', async () => {
    const r = await probeTcp(target({}), ctx());
    expect(r.ok).toBe(true);
    expect(r.phases.dns).toBeUndefined();
    expect(r.phases.connect).toBeGreaterThan(0);
  });

  it('closes its connection: one connection per probe, none left open', async () => {
    const closed: Promise<void>[] = [];
    const server = createServer((socket) => closed.push(new Promise((resolve) => socket.once('close', () => resolve()))));
    const counted = await listen(server);
    others.push(counted);
    for (let i = 0; i < 3; i++) expect((await probeTcp(target({ port: counted.port }), ctx())).ok).toBe(true);
    expect(counted.connections()).toBe(3);
    // Each connection closes without the server doing anything: the prober closed it.
    await Promise.all(closed);
    expect(closed).toHaveLength(3);
  });

  it('tcp_refused: nothing listens', async () => {
    const r = await probeTcp(target({ port: await closedPort() }), ctx());
    expectFailure(r, 'tcp_refused');
    expect(r.ip).toBe('127.0.0.1');
    expect(r.phases.connect).toBeUndefined();
  });

  it('tcp_reset: the server resets on accept', async () => {
    const s = await listen(faultServer('reset'));
    others.push(s);
    expectFailure(await probeTcp(target({ port: s.port }), ctx()), 'tcp_reset');
  });

  it('a server that closes cleanly right after accept is reachable: only a reset fails', async () => {
    const s = await listen(createServer((socket) => socket.end()));
    others.push(s);
    const r = await probeTcp(target({ port: s.port }), ctx());
    expect(r.ok).toBe(true);
    expect(r.reason).toBeNull();
    // The reset watch is not latency: total ends at connect.
    expect(r.phases.total).toBeLessThan(RESET_WATCH_MS / 1000);
  });

  it('dns failures come from the dns phase: dns_nxdomain, dns_timeout at the deadline', async () => {
    const nx = await probeTcp(target({ host: 'nx.test' }), ctx());
    expectFailure(nx, 'dns_nxdomain');
    expect(nx.ip).toBeNull();
    const t0 = performance.now();
    const slow = await probeTcp(target({ host: 'slow.test' }), ctx(300));
    expect(performance.now() - t0).toBeLessThan(1000);
    expectFailure(slow, 'dns_timeout');
    expect(slow.detail).toBe('no answer within 300 ms');
  });

  it('an aborted signal ends the probe at once', async () => {
    const stop = new AbortController();
    stop.abort();
    const r = await probeTcp(target({ host: 'slow.test' }), ctx(10_000, stop.signal));
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('probe aborted');
  });
});

describe('runProbe', () => {
  it('dispatches by kind', async () => {
    const tcp = await runProbe(target({}), ctx());
    expect(tcp).toMatchObject({ kind: 'tcp', ok: true });
    const dnsTarget: ResolvedTarget = {
      ...DnsTarget.parse({ id: 'dns-t', kind: 'dns', server: dns.address, query: { name: 'svc.test' }, expect: { answers_in: ['127.0.0.0/8'] } }),
      country: 'ZZ',
      category: 'test',
      file: 'test.yaml',
    };
    expect(await runProbe(dnsTarget, ctx())).toMatchObject({ target: 'dns-t', kind: 'dns', ok: true });
  });

  it('the table has one prober per kind', () => {
    expect(Object.keys(PROBERS).sort()).toEqual(['dns', 'doh', 'dot', 'http', 'icmp', 'tcp', 'tls']);
  });

  it('turns a prober that rejects (a bug) into reason unknown instead of rejecting', async () => {
    const broken: Prober<TcpResolved> = () => Promise.reject(new TypeError('bug in a prober'));
    const thrower: Prober<TcpResolved> = () => {
      throw new RangeError('synchronous bug');
    };
    for (const [prober, message] of [[broken, 'bug in a prober'], [thrower, 'synchronous bug']] as const) {
      const r = await runProbe(target({}), ctx(), { ...PROBERS, tcp: prober });
      expect(r).toMatchObject({ target: 'tcp-t', kind: 'tcp', ok: false, reason: 'unknown', ip: null });
      expect(r.detail).toContain(message);
      expect(r.phases.total).toBeGreaterThanOrEqual(0);
    }
  });
});
