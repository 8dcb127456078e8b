import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { SourceBinding, TcpTarget } from '../../src/config/schema.js';
import type { DisruptionEvent } from '../../src/detect/events.js';
import { createLogger } from '../../src/log.js';
import { createResolver } from '../../src/probers/resolver.js';
import { probeTcp } from '../../src/probers/tcp.js';
import { freePort, sample, tempDir } from '../e2e/harness.js';
import { listen, type Running } from '../fixtures/servers.js';

// Two uplinks stood in for by two source addresses, 127.0.0.2 (path "a") and 127.0.0.3 (path
// "b"), probing the same targets from the real daemon; iptables DROP by source address cuts one
// path inside the private namespace of scripts/netns-run.sh. That path's targets fail, the
// other's stay up, the metrics show both paths, and the detector names the cut on its path only.

const KZ = ['127.0.2.1', '127.0.2.2', '127.0.2.3'];
const DE = ['127.0.3.1', '127.0.3.2', '127.0.3.3'];
const CTL = ['127.0.1.1', '127.0.1.2', '127.0.1.3'];
const KZ_HTTP = '127.0.2.10';
const KZ_DNS = '127.0.2.53';
const PORT = 8080;

const running: Running[] = [];
let udp: UdpSocket | undefined;
let app: App | undefined;
const rules: string[][] = [];
const logs: Record<string, unknown>[] = [];

function iptables(args: string[]): void {
  execFileSync('iptables', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
// INPUT, not OUTPUT: a DROP in OUTPUT fails a UDP send at once with EPERM (a local refusal),
// where a drop on the way (as by a censor's or a dead ISP's router) is silence.
function addRule(rule: string[]): void {
  iptables(['-A', 'INPUT', ...rule]);
  rules.push(rule);
}

async function api<T>(path: string): Promise<T> {
  const { host, port } = (app as App).address;
  return (await (await fetch(`http://${host}:${port}${path}`)).json()) as T;
}
async function metrics(): Promise<string> {
  const { host, port } = (app as App).address;
  return (await fetch(`http://${host}:${port}/metrics`)).text();
}
async function events(): Promise<DisruptionEvent[]> {
  return (await api<{ events: DisruptionEvent[] }>('/api/v1/events')).events;
}
async function waitFor<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not in time: ${what}`);
}

beforeAll(async () => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).trim()).toBe('');
  for (const host of [...KZ, ...DE, ...CTL]) running.push(await listen(createNetServer((s) => s.end()), host, PORT));
  running.push(await listen(createHttpServer((_req, res) => res.end('ok')), KZ_HTTP, PORT));
  const u = createSocket('udp4');
  u.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const answers = [{ type: 'A' as const, name: q.questions?.[0]?.name ?? '', ttl: 60, data: '127.0.2.1' }];
    u.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED, questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => u.bind(53, KZ_DNS, r));
  udp = u;

  const dir = tempDir();
  const tcp = (id: string, host: string, extra = ''): string => `  - { id: ${id}, kind: tcp, host: ${host}, port: ${PORT}${extra} }`;
  writeFileSync(
    join(dir, 'world.yaml'),
    `category: test
targets:
${CTL.map((h, i) => tcp(`ctl-${i}`, h, ', country: US, control: true')).join('\n')}
${KZ.map((h, i) => tcp(`kz-${i}`, h, ', country: KZ')).join('\n')}
  - { id: kz-http, kind: http, url: "http://${KZ_HTTP}:${PORT}/", country: KZ }
  - { id: kz-dns, kind: dns, server: "${KZ_DNS}:53", query: { name: gov.kz.test }, expect: { answers_in: ["127.0.2.0/24"] }, country: KZ }
${DE.map((h, i) => tcp(`de-${i}`, h, ', country: DE')).join('\n')}
`,
  );
  const listenPort = await freePort();
  writeFileSync(
    join(dir, 'lookout.yaml'),
    `vantage: { id: two-uplinks }
server: { listen: "127.0.0.1:${listenPort}" }
storage: { dir: ./data }
geo: { country_db: null }
schedule: { interval: 1s, timeout: 500ms, confirm_delay: 200ms }
detection: { evaluate_every: 500ms }
catalogs:
  - file: world.yaml
    sources:
      - { address: 127.0.0.2, name: a }
      - { address: 127.0.0.3, name: b }
`,
  );
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  app = await startApp({ configPath: join(dir, 'lookout.yaml'), log: createLogger('info', sink), version: 'test', nodeVersion: process.version });
  // Every target up through both paths first.
  await waitFor('all targets up on both paths', async () => {
    const s = await api<{ targets: { id: string; state: string }[] }>('/api/v1/status');
    return s.targets.length === 22 && s.targets.every((t) => t.state === 'up') ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  if (process.env.LOOKOUT_NETNS === '1') for (const rule of rules.splice(0)) iptables(['-D', 'INPUT', ...rule]);
  await app?.stop(500);
  await Promise.all(running.map((r) => r.close()));
  udp?.close();
});

describe('two sources probing the same targets', () => {
  it('both paths are up and the metrics tell them apart', async () => {
    const text = await metrics();
    for (const path of ['a', 'b']) {
      expect(sample(text, 'lookout_probe_success', { target: 'kz-0', path })).toBe(1);
      expect(sample(text, 'lookout_probe_success', { target: 'kz-dns', path })).toBe(1);
      expect(sample(text, 'lookout_probe_success', { target: 'kz-http', path })).toBe(1);
      expect(sample(text, 'lookout_target_up', { target: 'kz-0', path })).toBe(1);
      expect(sample(text, 'lookout_vantage_online', { path })).toBe(1);
      expect(sample(text, 'lookout_country_reachability_ratio', { country: 'KZ', path })).toBe(1);
    }
    expect(await events()).toEqual([]);
  });

  it('DROP from 127.0.0.3 to KZ: a KZ shutdown on path b only, path a keeps seeing KZ', async () => {
    addRule(['-s', '127.0.0.3', '-d', '127.0.2.0/24', '-j', 'DROP']);
    const shutdown = await waitFor('shutdown KZ on path b', async () => (await events()).find((e) => e.kind === 'shutdown' && e.ended_at === null));
    expect(shutdown).toMatchObject({ kind: 'shutdown', country: 'KZ', path: 'b', mechanism: 'blackhole' });
    expect(shutdown.id).toMatch(/@b$/);
    const text = await metrics();
    for (const target of ['kz-0', 'kz-http', 'kz-dns']) {
      expect(sample(text, 'lookout_probe_success', { target, path: 'b' }), target).toBe(0);
      expect(sample(text, 'lookout_probe_success', { target, path: 'a' }), target).toBe(1);
    }
    expect(sample(text, 'lookout_probe_failures_total', { target: 'kz-0', path: 'b', reason: 'tcp_timeout' })).toBeGreaterThan(0);
    expect(sample(text, 'lookout_probe_failures_total', { target: 'kz-dns', path: 'b', reason: 'dns_timeout' })).toBeGreaterThan(0);
    expect(sample(text, 'lookout_probe_failures_total', { target: 'kz-0', path: 'a', reason: 'tcp_timeout' })).toBeUndefined();
    expect(sample(text, 'lookout_disruption_active', { kind: 'shutdown', country: 'KZ', path: 'b' })).toBe(1);
    expect(sample(text, 'lookout_country_reachability_ratio', { country: 'KZ', path: 'b' })).toBe(0);
    expect(sample(text, 'lookout_country_reachability_ratio', { country: 'KZ', path: 'a' })).toBe(1);
    const status = await api<{ paths: { path: string; vantage: { online: boolean } }[] }>('/api/v1/status');
    expect(status.paths.map((p) => [p.path, p.vantage.online])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect((await events()).filter((e) => e.path !== 'b')).toEqual([]);
  }, 40_000);

  it('DROP of everything from 127.0.0.3: path b vantage_offline, path a online and quiet', async () => {
    addRule(['-s', '127.0.0.3', '-j', 'DROP']);
    const offline = await waitFor('vantage_offline on path b', async () => (await events()).find((e) => e.kind === 'vantage_offline'));
    expect(offline.path).toBe('b');
    const text = await metrics();
    expect(sample(text, 'lookout_vantage_online', { path: 'b' })).toBe(0);
    expect(sample(text, 'lookout_vantage_online', { path: 'a' })).toBe(1);
    expect(sample(text, 'lookout_probe_success', { target: 'ctl-0', path: 'a' })).toBe(1);
    expect(sample(text, 'lookout_probe_success', { target: 'ctl-0', path: 'b' })).toBe(0);
    expect((await events()).filter((e) => e.path !== 'b')).toEqual([]);
    expect(logs.some((l) => l.msg === 'controls unreachable: this vantage point appears to have no internet connectivity' && l.path === 'b')).toBe(true);
    expect(logs.some((l) => l.msg === 'controls unreachable: this vantage point appears to have no internet connectivity' && l.path !== 'b')).toBe(false);
  }, 40_000);

  it('an address taken off the host: source_unavailable, not a network failure', async () => {
    // ::1 is the only address of this namespace outside 127.0.0.0/8: remove it, bind to it.
    const server = await listen(createNetServer((s) => s.end()), '127.0.0.1');
    try {
      execFileSync('ip', ['-6', 'addr', 'del', '::1/128', 'dev', 'lo']);
      const target = { ...TcpTarget.parse({ id: 'gone', kind: 'tcp', host: '::1', port: server.port }), country: 'ZZ', category: 'test', file: 't.yaml' };
      const ctx = { timeoutMs: 1000, signal: new AbortController().signal, resolver: createResolver(), source: SourceBinding.parse({ address: '::1', name: 'v6' }) };
      const r = await probeTcp(target, ctx);
      expect(r).toMatchObject({ ok: false, reason: 'source_unavailable' });
      expect(r.detail).toMatch(/cannot bind ::1 \(EADDRNOTAVAIL\)/);
    } finally {
      execFileSync('ip', ['-6', 'addr', 'add', '::1/128', 'dev', 'lo']);
      await server.close();
    }
  });
});
