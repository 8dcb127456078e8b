import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DohTarget, DotTarget, type DohResolved, type DotResolved } from '../../src/config/schema.js';
import { createDohProber } from '../../src/probers/doh.js';
import { createDotProber } from '../../src/probers/dot.js';
import { createResolver } from '../../src/probers/resolver.js';
import type { ProbeContext, ProbeResult } from '../../src/probers/types.js';
import { startDnsServer, type FakeDnsServer } from '../fixtures/dns-server.js';
import { startDohServer, startDotServer } from '../fixtures/encdns-servers.js';
import type { Running } from '../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../fixtures/tls-certs.js';

// The blocking signatures of encrypted DNS, made by the kernel: iptables inside the private
// namespace of scripts/netns-run.sh (only loopback exists there). A DoT server on port 853 and
// a DoH server on 443 of their own 127.0.0.x addresses; every rule is removed in afterAll.

const DOT_RST = '127.0.0.41'; // REJECT tcp-reset on port 853: the classic DoT port block
const DOT_DROP = '127.0.0.42'; // DROP on port 853
const DOT_SNI = '127.0.0.43'; // reset on a keyword in the DoT SNI
const DOH_SNI = '127.0.0.44'; // reset on a keyword in the DoH SNI
const DOH_SNI_DROP = '127.0.0.45'; // drop on a keyword in the DoH SNI

const RULES: string[][] = [
  ['-d', DOT_RST, '-p', 'tcp', '--dport', '853', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
  ['-d', DOT_DROP, '-p', 'tcp', '--dport', '853', '-j', 'DROP'],
  ['-d', DOT_SNI, '-p', 'tcp', '-m', 'string', '--string', 'dns.blocked.test', '--algo', 'bm', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
  ['-d', DOH_SNI, '-p', 'tcp', '-m', 'string', '--string', 'doh.blocked.test', '--algo', 'bm', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
  ['-d', DOH_SNI_DROP, '-p', 'tcp', '-m', 'string', '--string', 'doh.blocked.test', '--algo', 'bm', '-j', 'DROP'],
];

let certs: TestCerts;
let dns: FakeDnsServer;
const added: string[][] = [];
const servers: Running[] = [];

function iptables(args: string[]): void {
  execFileSync('iptables', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

beforeAll(async () => {
  // Never touch iptables outside the private namespace.
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).trim()).toBe('');
  certs = makeTestCerts();
  dns = await startDnsServer({ 'ok.test': { kind: 'answer', A: ['127.0.0.5'] } });
  for (const rule of RULES) {
    iptables(['-A', 'OUTPUT', ...rule]);
    added.push(rule);
  }
  for (const host of [DOT_RST, DOT_DROP, DOT_SNI]) servers.push(await startDotServer({ upstream: dns, cert: certs.leaf, host, port: 853 }));
  for (const host of [DOH_SNI, DOH_SNI_DROP]) servers.push(await startDohServer({ upstream: dns, cert: certs.leaf, host, port: 443 }));
});

afterAll(async () => {
  if (process.env.LOOKOUT_NETNS === '1') for (const rule of added.splice(0)) iptables(['-D', 'OUTPUT', ...rule]);
  await Promise.all(servers.map((s) => s.close()));
  await dns?.close();
  certs?.cleanup();
});

const common = { country: 'ZZ', category: 'test', file: 'test.yaml' };
const query = { name: 'ok.test' };
const expectAnswer = { answers_in: ['127.0.0.0/8'] };

function dot(host: string, sni?: string): DotResolved {
  return { ...DotTarget.parse({ id: 'ns-dot', kind: 'dot', server: `${host}:853`, query, expect: expectAnswer, ...(sni ? { sni, insecure_skip_verify: true } : {}) }), ...common };
}

function doh(host: string, name: string): DohResolved {
  return { ...DohTarget.parse({ id: 'ns-doh', kind: 'doh', url: `https://${name}/dns-query`, ip: host, insecure_skip_verify: true, query, expect: expectAnswer }), ...common };
}

function ctx(timeoutMs = 2000): ProbeContext {
  return { timeoutMs, signal: new AbortController().signal, resolver: createResolver([dns.address]) };
}

const probeDot = (t: DotResolved, timeoutMs?: number): Promise<ProbeResult> => createDotProber({ ca: certs.ca })(t, ctx(timeoutMs));
const probeDoh = (t: DohResolved, timeoutMs?: number): Promise<ProbeResult> => createDohProber({ ca: certs.ca })(t, ctx(timeoutMs));

function expectFailure(r: ProbeResult, reason: ProbeResult['reason'], ip: string): void {
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(false);
  expect(r.ip).toBe(ip);
}

describe('encrypted DNS blocked by iptables on loopback, in the private namespace', () => {
  it('DoT port 853 rejected with a TCP reset: the kernel reports ECONNREFUSED, tcp_refused', async () => {
    const r = await probeDot(dot(DOT_RST));
    expectFailure(r, 'tcp_refused', DOT_RST);
    expect(r.detail).toMatch(/ECONNREFUSED/);
    expect(r.phases.connect).toBeUndefined();
  });

  it('DoT port 853 dropped: tcp_timeout', async () => {
    expectFailure(await probeDot(dot(DOT_DROP), 400), 'tcp_timeout', DOT_DROP);
  });

  it('a reset injected on a keyword in the DoT SNI: tls_reset, while another SNI gets its answer', async () => {
    const blocked = await probeDot(dot(DOT_SNI, 'dns.blocked.test'));
    expectFailure(blocked, 'tls_reset', DOT_SNI);
    expect(blocked.phases.connect).toBeGreaterThan(0);
    expect(blocked.phases.dns).toBeUndefined();
    const allowed = await probeDot(dot(DOT_SNI, 'dns.allowed.test'));
    expect(allowed, allowed.detail).toMatchObject({ ok: true });
    expect(allowed.phases.dns).toBeGreaterThan(0);
  });

  it('a reset injected on a keyword in the DoH SNI: tls_reset; dropped instead: tls_timeout; another SNI gets its answer', async () => {
    const reset = await probeDoh(doh(DOH_SNI, 'doh.blocked.test'));
    expectFailure(reset, 'tls_reset', DOH_SNI);
    expect(reset.phases.connect).toBeGreaterThan(0);
    expectFailure(await probeDoh(doh(DOH_SNI_DROP, 'doh.blocked.test'), 400), 'tls_timeout', DOH_SNI_DROP);
    for (const host of [DOH_SNI, DOH_SNI_DROP]) {
      const allowed = await probeDoh(doh(host, 'doh.allowed.test'));
      expect(allowed, allowed.detail).toMatchObject({ ok: true, status: 200 });
    }
  });
});
