import { execFileSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsTarget, HttpTarget, TcpTarget, TlsTarget, type ResolvedTarget } from '../../src/config/schema.js';
import { probeDns } from '../../src/probers/dns.js';
import { createHttpProber } from '../../src/probers/http.js';
import { createResolver } from '../../src/probers/resolver.js';
import { probeTcp } from '../../src/probers/tcp.js';
import { createTlsProber } from '../../src/probers/tls.js';
import type { ProbeContext, ProbeResult } from '../../src/probers/types.js';
import { listen, type Running } from '../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../fixtures/tls-certs.js';

// Real kernel faults from iptables, inside the private namespace of scripts/netns-run.sh (only
// loopback exists there). One 127.0.0.x address per rule; every rule is removed in afterAll.

const DROP = '127.0.0.21';
const RST = '127.0.0.22';
const NET_UNREACH = '127.0.0.23';
const HOST_UNREACH = '127.0.0.24';
const INJECT = '127.0.0.25';
const PORT = 8443;

const RULES: string[][] = [
  ['-d', DROP, '-j', 'DROP'],
  ['-d', RST, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
  ['-d', NET_UNREACH, '-j', 'REJECT', '--reject-with', 'icmp-net-unreachable'],
  ['-d', HOST_UNREACH, '-j', 'REJECT', '--reject-with', 'icmp-host-unreachable'],
  // A censor's keyword match: any packet carrying "blocked.test" (an SNI, a Host header) draws a reset.
  ['-d', INJECT, '-p', 'tcp', '-m', 'string', '--string', 'blocked.test', '--algo', 'bm', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
];

let certs: TestCerts;
const added: string[][] = [];
const servers: Running[] = [];
let tlsPort = 0;
let httpPort = 0;

function iptables(args: string[]): void {
  execFileSync('iptables', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

beforeAll(async () => {
  // Never touch iptables outside the private namespace.
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).trim()).toBe('');
  certs = makeTestCerts();
  for (const rule of RULES) {
    iptables(['-A', 'OUTPUT', ...rule]);
    added.push(rule);
  }
  const tls = await listen(createTlsServer(certs.leaf, (socket) => socket.end()), INJECT);
  const http = await listen(createHttpServer((_req, res) => res.end('ok')), INJECT);
  servers.push(tls, http);
  tlsPort = tls.port;
  httpPort = http.port;
});

afterAll(async () => {
  if (process.env.LOOKOUT_NETNS === '1') for (const rule of added.splice(0)) iptables(['-D', 'OUTPUT', ...rule]);
  await Promise.all(servers.map((s) => s.close()));
  certs?.cleanup();
});

const common = { country: 'ZZ', category: 'test', file: 'test.yaml' };
const tcp = (host: string, port = PORT): ResolvedTarget => ({ ...TcpTarget.parse({ id: 'ns-tcp', kind: 'tcp', host, port }), ...common });
const tls = (host: string, port = PORT, sni?: string): ResolvedTarget => ({
  ...TlsTarget.parse({ id: 'ns-tls', kind: 'tls', host, port, ...(sni ? { sni, insecure_skip_verify: true } : {}) }),
  ...common,
});
const http = (host: string, port = PORT, hostHeader?: string): ResolvedTarget => ({
  ...HttpTarget.parse({ id: 'ns-http', kind: 'http', url: `http://${host}:${port}/`, ...(hostHeader ? { host: hostHeader } : {}) }),
  ...common,
});

async function probe(target: ResolvedTarget, timeoutMs = 2000): Promise<ProbeResult> {
  const ctx: ProbeContext = { timeoutMs, signal: new AbortController().signal, resolver: createResolver() };
  if (target.kind === 'tcp') return probeTcp(target, ctx);
  if (target.kind === 'tls') return createTlsProber({ ca: certs.ca })(target, ctx);
  if (target.kind === 'http') return createHttpProber({ ca: certs.ca })(target, ctx);
  if (target.kind === 'dns') return probeDns(target, ctx);
  throw new Error('no prober here for this kind');
}

const KINDS = [tcp, tls, http] as const;

function expectFailure(r: ProbeResult, reason: ProbeResult['reason'], ip: string): void {
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(false);
  expect(r.ip).toBe(ip);
  expect(r.phases.connect).toBeUndefined();
}

describe('iptables faults on loopback, in the private namespace', () => {
  it('DROP (a blackhole): tcp_timeout for tcp, tls and http', async () => {
    for (const make of KINDS) expectFailure(await probe(make(DROP), 400), 'tcp_timeout', DROP);
  });

  it('DROP in OUTPUT for a DNS query over UDP: the send fails at once with EPERM, network_unreachable (never unknown)', async () => {
    const target: ResolvedTarget = {
      ...DnsTarget.parse({ id: 'ns-dns', kind: 'dns', server: `${DROP}:53`, query: { name: 'example.test', type: 'A' } }),
      ...common,
    };
    const r = await probe(target, 1000);
    expect(r.reason, r.detail).toBe('network_unreachable');
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/EPERM/);
  });

  it('REJECT with a TCP reset answering the SYN: the kernel reports ECONNREFUSED, i.e. tcp_refused', async () => {
    for (const make of KINDS) {
      const r = await probe(make(RST));
      expectFailure(r, 'tcp_refused', RST);
      expect(r.detail).toMatch(/ECONNREFUSED/);
    }
  });

  it('REJECT with icmp-net-unreachable and icmp-host-unreachable: network_unreachable', async () => {
    for (const make of KINDS) {
      expectFailure(await probe(make(NET_UNREACH)), 'network_unreachable', NET_UNREACH);
      expectFailure(await probe(make(HOST_UNREACH)), 'network_unreachable', HOST_UNREACH);
    }
  });

  it('a reset injected on a keyword in the SNI: tls_reset, while another SNI gets through', async () => {
    const blocked = await probe(tls(INJECT, tlsPort, 'blocked.test'));
    expect(blocked.reason, blocked.detail).toBe('tls_reset');
    expect(blocked.phases.connect).toBeGreaterThan(0);
    expect((await probe(tls(INJECT, tlsPort, 'allowed.test'))).ok).toBe(true);
    // The connection itself is not touched: tcp succeeds.
    expect((await probe(tcp(INJECT, tlsPort))).ok).toBe(true);
  });

  it('a reset injected on a keyword in the Host header: http_reset, while another host gets through', async () => {
    const blocked = await probe(http(INJECT, httpPort, 'blocked.test'));
    expect(blocked.reason, blocked.detail).toBe('http_reset');
    expect(blocked.phases.connect).toBeGreaterThan(0);
    expect(await probe(http(INJECT, httpPort, 'allowed.test'))).toMatchObject({ ok: true, status: 200 });
  });
});
