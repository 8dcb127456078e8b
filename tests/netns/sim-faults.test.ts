import { execFileSync } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TcpTarget, TlsTarget, type ResolvedTarget } from '../../src/config/schema.js';
import { runProbe } from '../../src/probers/registry.js';
import { createResolver } from '../../src/probers/resolver.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { planAddresses } from '../../src/sim/addressing.js';
import { FaultInjector } from '../../src/sim/faults.js';
import { assertPrivateNetns } from '../../src/sim/netns.js';
import { listen, type Running } from '../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../fixtures/tls-certs.js';

// The fault injector against real loopback servers bound on addresses of the simulated world's
// plan, inside the private namespace of scripts/netns-run.sh. Every rule is cleared after each test.

const plan = planAddresses([
  { code: 'KZ', asns: [9198, 21299] },
  { code: 'DE', asns: [3320] },
]);
const KT = plan.hostFor('KZ', 9198, 5);
const KT_CIDR = plan.asnCidr('KZ', 9198);
const OTHER = plan.hostFor('KZ', 21299, 5);
const DE = plan.hostFor('DE', 3320, 5);

let certs: TestCerts;
let faults: FaultInjector;
const servers: Running[] = [];
let ktTcp: Running;
let ktTls: Running;
let otherTcp: Running;
let deTcp: Running;

function listedRules(): string[] {
  return execFileSync('iptables', ['-S', 'OUTPUT'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('-A '));
}

beforeAll(async () => {
  // Never touch iptables outside the private namespace.
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  await assertPrivateNetns();
  certs = makeTestCerts();
  faults = new FaultInjector();
  ktTcp = await listen(createNetServer((s) => s.end()), KT);
  ktTls = await listen(createTlsServer(certs.leaf, (s) => s.end()), KT);
  otherTcp = await listen(createNetServer((s) => s.end()), OTHER);
  deTcp = await listen(createNetServer((s) => s.end()), DE);
  servers.push(ktTcp, ktTls, otherTcp, deTcp);
});

afterEach(async () => {
  if (process.env.LOOKOUT_NETNS === '1') await faults.clear();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  certs?.cleanup();
});

const common = { country: 'KZ', category: 'test', file: 'test.yaml' };
const tcp = (server: Running): ResolvedTarget => ({ ...TcpTarget.parse({ id: 'sim-tcp', kind: 'tcp', host: server.host, port: server.port }), ...common });
const tls = (server: Running, sni: string): ResolvedTarget => ({
  ...TlsTarget.parse({ id: 'sim-tls', kind: 'tls', host: server.host, port: server.port, sni, insecure_skip_verify: true }),
  ...common,
});

function probe(target: ResolvedTarget, timeoutMs = 400): Promise<ProbeResult> {
  return runProbe(target, { timeoutMs, signal: new AbortController().signal, resolver: createResolver() });
}

async function expectReason(target: ResolvedTarget, reason: ProbeResult['reason']): Promise<ProbeResult> {
  const r = await probe(target);
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(false);
  return r;
}

async function expectOk(target: ResolvedTarget): Promise<void> {
  const r = await probe(target);
  expect(r.ok, r.detail).toBe(true);
}

describe('FaultInjector in the private namespace', () => {
  it('starts with reachable servers and no lookout-sim rule', async () => {
    await faults.clear();
    expect(listedRules().filter((l) => l.includes('lookout-sim:'))).toEqual([]);
    for (const s of [ktTcp, otherTcp, deTcp]) await expectOk(tcp(s));
    await expectOk(tls(ktTls, 'allowed.test'));
  });

  it('blackhole: tcp_timeout inside the CIDR only; remove(id) restores reachability', async () => {
    await faults.blackhole('kt-down', KT_CIDR);
    expect(faults.active()).toEqual(['kt-down']);
    const r = await expectReason(tcp(ktTcp), 'tcp_timeout');
    expect(r.ip).toBe(KT);
    await expectOk(tcp(otherTcp));
    expect(await faults.remove('kt-down')).toBe(1);
    expect(faults.active()).toEqual([]);
    expect(listedRules().filter((l) => l.includes('lookout-sim:'))).toEqual([]);
    await expectOk(tcp(ktTcp));
  });

  it('reset: a reset answering the SYN surfaces as tcp_refused, on the given port only', async () => {
    await faults.reset('kt-rst', KT_CIDR, ktTcp.port);
    const r = await expectReason(tcp(ktTcp), 'tcp_refused');
    expect(r.detail).toMatch(/ECONNREFUSED/);
    await expectOk(tls(ktTls, 'allowed.test'));
    await faults.remove('kt-rst');
    await faults.reset('kz-rst', plan.countryCidr('KZ'));
    await expectReason(tcp(ktTcp), 'tcp_refused');
    await expectReason(tcp(otherTcp), 'tcp_refused');
    await expectOk(tcp(deTcp));
  });

  it('sniFilter: tls_reset for the blocked SNI, while another SNI on the same address succeeds', async () => {
    await faults.sniFilter('kt-sni', KT_CIDR, 'blocked.test');
    const blocked = await expectReason(tls(ktTls, 'blocked.test'), 'tls_reset');
    expect(blocked.phases.connect).toBeGreaterThan(0);
    await expectOk(tls(ktTls, 'allowed.test'));
    await expectOk(tcp(ktTcp));
  });

  it('unreachable: network_unreachable', async () => {
    await faults.unreachable('kt-unreach', KT_CIDR);
    await expectReason(tcp(ktTcp), 'network_unreachable');
    await expectReason(tls(ktTls, 'allowed.test'), 'network_unreachable');
    await expectOk(tcp(deTcp));
  });

  it('loss with probability 1: every SYN is dropped, tcp_timeout', async () => {
    await faults.loss('kt-loss', KT_CIDR, 1);
    await expectReason(tcp(ktTcp), 'tcp_timeout');
    await expectOk(tcp(otherTcp));
  });

  it('remove(id) deletes exactly the rules of that id; clear() leaves no lookout-sim rule', async () => {
    execFileSync('iptables', ['-A', 'OUTPUT', '-d', '127.200.0.1', '-j', 'ACCEPT']);
    try {
      await faults.blackhole('a', plan.asnCidr('KZ', 21299));
      await faults.reset('b', plan.countryCidr('DE'), 443);
      await faults.loss('c', KT_CIDR, 0.5);
      expect(faults.active()).toEqual(['a', 'b', 'c']);
      expect(await faults.remove('b')).toBe(1);
      expect(faults.active()).toEqual(['a', 'c']);
      const left = listedRules().filter((l) => l.includes('lookout-sim:'));
      expect(left).toHaveLength(2);
      expect(left.some((l) => l.includes('"lookout-sim:b"'))).toBe(false);
      await expect(faults.blackhole('a', KT_CIDR)).rejects.toThrow(/fault a is already active/);
      expect(await faults.clear()).toBe(2);
      expect(faults.active()).toEqual([]);
      // Only lookout-sim rules go: the foreign rule stays (other netns suites may add theirs concurrently).
      expect(listedRules().filter((l) => l.includes('lookout-sim:'))).toEqual([]);
      expect(listedRules()).toContain('-A OUTPUT -d 127.200.0.1/32 -j ACCEPT');
    } finally {
      execFileSync('iptables', ['-D', 'OUTPUT', '-d', '127.200.0.1', '-j', 'ACCEPT']);
    }
  });

  it('a CIDR outside 127.0.0.0/8 is refused without running iptables', async () => {
    const before = execFileSync('iptables', ['-S', 'OUTPUT'], { encoding: 'utf8' });
    // Never dialled: these only have to be refused.
    await expect(faults.blackhole('outside', '0.0.0.0/0')).rejects.toThrow(/fault outside: CIDR "0\.0\.0\.0\/0" is not inside 127\.0\.0\.0\/8/);
    await expect(faults.reset('outside', '198.51.100.0/24')).rejects.toThrow(/not inside 127\.0\.0\.0\/8/);
    await expect(faults.unreachable('outside', '127.0.0.0/7')).rejects.toThrow(/not inside 127\.0\.0\.0\/8/);
    expect(execFileSync('iptables', ['-S', 'OUTPUT'], { encoding: 'utf8' })).toBe(before);
    expect(faults.active()).toEqual([]);
  });

  it('an iptables failure rejects naming the fault id and the iptables error', async () => {
    const broken = new FaultInjector({ iptables: 'false' });
    await expect(broken.blackhole('kt-fail', KT_CIDR)).rejects.toThrow(/^fault kt-fail: iptables -A OUTPUT .* failed/);
    expect(broken.active()).toEqual([]);
  });
});
