import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type FakeDnsServer } from '../fixtures/dns-server.js';
import { promtoolCheckMetrics } from '../fixtures/promtool.js';
import { closedPort, faultServer, listen, type Running } from '../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../fixtures/tls-certs.js';
import { freePort, sample, startDaemon, tempDir, type Daemon } from './harness.js';

// The built daemon against loopback targets of every kind, healthy and failing: its /metrics
// must show the right success, phases and failure reasons, and pass the real promtool.

const servers: Running[] = [];
let dns: FakeDnsServer;
let certs: TestCerts;
let daemon: Daemon;

async function waitForSamples(ids: string[], timeoutMs = 12_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = await daemon.metrics();
    if (ids.every((id) => sample(text, 'lookout_probe_success', { target: id }) !== undefined)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not every target was probed in time:\n${text}`);
}

const IDS = [
  'http-ok', 'https-ok', 'http-blockpage', 'http-451', 'http-reset', 'tcp-ok', 'tcp-refused', 'tcp-reset',
  'tls-ok', 'tls-alert', 'dns-ok', 'dns-nxdomain', 'dns-bogon',
];

beforeAll(async () => {
  certs = makeTestCerts();
  const handler = (req: { url?: string }, res: { writeHead(s: number): void; end(b: string): void }): void => {
    if (req.url === '/blocked') {
      res.writeHead(200);
      res.end('<html>Access to this resource is restricted by order of the authorities</html>');
    } else if (req.url === '/legal') {
      res.writeHead(451);
      res.end('unavailable for legal reasons');
    } else {
      res.writeHead(200);
      res.end('hello from the loopback');
    }
  };
  const web = await listen(createHttpServer(handler));
  const secure = await listen(createHttpsServer({ key: certs.leaf.key, cert: certs.leaf.cert }, handler));
  const tcp = await listen(createNetServer((s) => s.destroy()));
  const reset = await listen(faultServer('reset'));
  const alert = await listen(faultServer('alert'));
  const readReset = await listen(faultServer('read-reset'));
  servers.push(web, secure, tcp, reset, alert, readReset);
  const refused = await closedPort();
  dns = await startDnsServer({
    localhost: { kind: 'answer', A: ['127.0.0.1'] },
    'ok.lookout.test': { kind: 'answer', A: ['127.0.0.10'] },
    'blocked.lookout.test': { kind: 'rcode', rcode: 'NXDOMAIN' },
    'bogon.lookout.test': { kind: 'answer', A: ['0.0.0.0'] },
  });
  const dnsAt = `127.0.0.1:${dns.port}`;
  const apiPort = await freePort();
  const dir = tempDir({ 'ca.pem': certs.ca });
  const config = `
vantage: { id: e2e-kinds }
server: { listen: "127.0.0.1:${apiPort}" }
schedule: { interval: 2s, timeout: 1s, confirm_delay: 500ms }
resolver: { servers: ["${dnsAt}"] }
targets:
  - { id: http-ok, kind: http, country: KZ, asn: 9198, category: news, url: "http://127.0.0.1:${web.port}/", expect: { body_contains: "hello" } }
  - { id: https-ok, kind: http, country: KZ, url: "https://localhost:${secure.port}/" }
  - { id: http-blockpage, kind: http, country: KZ, url: "http://127.0.0.1:${web.port}/blocked", expect: { body_not_contains: "restricted by order" } }
  - { id: http-451, kind: http, country: KZ, url: "http://127.0.0.1:${web.port}/legal" }
  - { id: tcp-ok, kind: tcp, country: KZ, host: 127.0.0.1, port: ${tcp.port} }
  - { id: tcp-refused, kind: tcp, country: KZ, host: 127.0.0.1, port: ${refused} }
  - { id: tcp-reset, kind: tcp, country: KZ, host: 127.0.0.1, port: ${reset.port} }
  - { id: http-reset, kind: http, country: KZ, url: "http://127.0.0.1:${readReset.port}/" }
  - { id: tls-ok, kind: tls, country: KZ, host: localhost, port: ${secure.port} }
  - { id: tls-alert, kind: tls, country: KZ, host: 127.0.0.1, port: ${alert.port}, sni: localhost }
  - { id: dns-ok, kind: dns, country: KZ, server: "${dnsAt}", query: { name: ok.lookout.test }, expect: { answers_in: ["127.0.0.0/8"] } }
  - { id: dns-nxdomain, kind: dns, country: KZ, server: "${dnsAt}", query: { name: blocked.lookout.test } }
  - { id: dns-bogon, kind: dns, country: KZ, server: "${dnsAt}", query: { name: bogon.lookout.test } }
`;
  writeFileSync(join(dir, 'lookout.yaml'), config);
  // The daemon verifies certificates; it trusts the test CA the way an operator would add one.
  daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') });
});

afterAll(async () => {
  daemon?.proc.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.close()));
  await dns?.close();
  certs?.cleanup();
});

describe('a daemon probing loopback targets of every kind', () => {
  let text = '';

  it('reports success and failure per target', async () => {
    text = await waitForSamples(IDS);
    const success = (id: string): number | undefined => sample(text, 'lookout_probe_success', { target: id });
    for (const id of ['http-ok', 'https-ok', 'tcp-ok', 'tls-ok', 'dns-ok']) expect(success(id), id).toBe(1);
    for (const id of ['http-blockpage', 'http-451', 'http-reset', 'tcp-refused', 'tcp-reset', 'tls-alert', 'dns-nxdomain', 'dns-bogon']) {
      expect(success(id), id).toBe(0);
    }
    expect(sample(text, 'lookout_probe_success', { target: 'http-ok', country: 'KZ', asn: '9198', category: 'news', kind: 'http', vantage: 'e2e-kinds' })).toBe(1);
  });

  it('names each failure with its reason code', () => {
    const expected: Record<string, string> = {
      'http-blockpage': 'http_blockpage',
      'http-451': 'http_status',
      'http-reset': 'http_reset',
      'tcp-refused': 'tcp_refused',
      'tcp-reset': 'tcp_reset',
      'tls-alert': 'tls_alert',
      'dns-nxdomain': 'dns_nxdomain',
      'dns-bogon': 'dns_bogon_answer',
    };
    for (const [id, reason] of Object.entries(expected)) {
      expect(sample(text, 'lookout_probe_failures_total', { target: id, reason }), `${id} ${reason}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('exports the phases of each kind', () => {
    const phase = (id: string, p: string): number | undefined => sample(text, 'lookout_probe_duration_seconds', { target: id, phase: p });
    for (const p of ['dns', 'connect', 'tls', 'ttfb', 'total']) expect(phase('https-ok', p), `https-ok ${p}`).toBeGreaterThan(0);
    for (const p of ['connect', 'ttfb', 'total']) expect(phase('http-ok', p), `http-ok ${p}`).toBeGreaterThan(0);
    expect(phase('http-ok', 'dns')).toBeUndefined(); // an IP literal needs no resolution
    for (const p of ['dns', 'connect', 'tls', 'total']) expect(phase('tls-ok', p), `tls-ok ${p}`).toBeGreaterThan(0);
    for (const p of ['connect', 'total']) expect(phase('tcp-ok', p), `tcp-ok ${p}`).toBeGreaterThan(0);
    for (const p of ['dns', 'total']) expect(phase('dns-ok', p), `dns-ok ${p}`).toBeGreaterThan(0);
    expect(sample(text, 'lookout_tls_cert_expiry_timestamp_seconds', { target: 'tls-ok' })).toBe(certs.leafNotAfter);
    expect(sample(text, 'lookout_probe_latency_seconds_count', { country: 'KZ', kind: 'http' })).toBeGreaterThanOrEqual(2);
  });

  it('serves /metrics that pass promtool check metrics', async () => {
    const live = await daemon.metrics();
    const check = await promtoolCheckMetrics(live);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  it('exits 0 on SIGTERM', async () => {
    daemon.proc.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });
});
