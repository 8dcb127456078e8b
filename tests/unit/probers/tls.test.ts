import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsTarget, type TlsResolved } from '../../../src/config/schema.js';
import { createResolver } from '../../../src/probers/resolver.js';
import { createTlsProber } from '../../../src/probers/tls.js';
import type { ProbeContext, ProbeResult } from '../../../src/probers/types.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';
import { closedPort, faultServer, listen, type Running } from '../../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../../fixtures/tls-certs.js';

let certs: TestCerts;
let dns: FakeDnsServer;
const running: Running[] = [];

beforeAll(async () => {
  certs = makeTestCerts();
  dns = await startDnsServer({ 'localhost': { kind: 'answer', A: ['127.0.0.1'] }, 'slow.test': { kind: 'silent' } });
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

function tlsServer(options: TlsOptions): Promise<Running> {
  return serve(createTlsServer(options, (socket) => socket.end()));
}

function target(fields: Record<string, unknown>): TlsResolved {
  return { ...TlsTarget.parse({ id: 'tls-t', kind: 'tls', host: '127.0.0.1', ...fields }), country: 'ZZ', category: 'test', file: 'test.yaml' };
}

function ctx(timeoutMs = 2000, signal = new AbortController().signal): ProbeContext {
  return { timeoutMs, signal, resolver: createResolver([dns.address]) };
}

const probe = (t: TlsResolved, c = ctx()): Promise<ProbeResult> => createTlsProber({ ca: certs.ca })(t, c);

function expectFailure(r: ProbeResult, reason: ProbeResult['reason']): void {
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(false);
  expect(r.phases.total).toBeGreaterThan(0);
}

describe('tls prober: success', () => {
  it('handshakes with a name: dns, connect, tls and total, the dialled ip and the cert expiry', async () => {
    const s = await tlsServer(certs.leaf);
    const r = await probe(target({ host: 'localhost', port: s.port }));
    expect(r).toMatchObject({ target: 'tls-t', kind: 'tls', ok: true, reason: null, ip: '127.0.0.1', cert_expiry: certs.leafNotAfter });
    for (const phase of ['dns', 'connect', 'tls', 'total'] as const) expect(r.phases[phase]).toBeGreaterThan(0);
    expect(r.phases.total).toBeGreaterThanOrEqual((r.phases.dns ?? 0) + (r.phases.connect ?? 0) + (r.phases.tls ?? 0));
  });

  it('skips the dns phase for an IP literal and verifies the certificate against the IP', async () => {
    const s = await tlsServer(certs.leaf);
    const r = await probe(target({ port: s.port }));
    expect(r.ok, r.detail).toBe(true);
    expect(r.phases.dns).toBeUndefined();
    expect(r.phases.tls).toBeGreaterThan(0);
  });

  it('sends sni as the server name, and the host name when there is no sni', async () => {
    const seen: string[] = [];
    // The server's SNI callback runs during the handshake, before the client is done.
    const s = await tlsServer({
      ...certs.leaf,
      SNICallback: (name, cb) => {
        seen.push(name);
        cb(null, undefined);
      },
    });
    // The leaf is for "localhost": an sni of another name is still verified against that name.
    const other = await probe(target({ port: s.port, sni: 'www.example.test', insecure_skip_verify: true }));
    const named = await probe(target({ host: 'localhost', port: s.port }));
    const literal = await probe(target({ port: s.port }));
    expect([other.ok, named.ok, literal.ok]).toEqual([true, true, true]);
    expect(seen).toEqual(['www.example.test', 'localhost']);
    expect(s.connections()).toBe(3);
  });
});

describe('tls prober: interference', () => {
  it('tls_reset: the server reads the ClientHello and resets', async () => {
    const s = await serve(faultServer('read-reset'));
    const r = await probe(target({ port: s.port }));
    expectFailure(r, 'tls_reset');
    expect(r.ip).toBe('127.0.0.1');
    expect(r.phases.connect).toBeGreaterThan(0);
    expect(r.phases.tls).toBeUndefined();
  });

  it('tls_alert: a fatal alert record in answer to the ClientHello', async () => {
    const s = await serve(faultServer('alert'));
    const r = await probe(target({ port: s.port }));
    expectFailure(r, 'tls_alert');
    expect(r.detail).toMatch(/ALERT_HANDSHAKE_FAILURE/);
  });

  it('tls_alert: a real TLS server that demands a client certificate (TLS 1.2) sends an alert', async () => {
    const s = await tlsServer({ ...certs.leaf, maxVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: true, ca: certs.ca });
    expectFailure(await probe(target({ port: s.port })), 'tls_alert');
  });

  it('tls_eof: the server reads the ClientHello and closes cleanly', async () => {
    const s = await serve(faultServer('read-end'));
    expectFailure(await probe(target({ port: s.port })), 'tls_eof');
  });

  it('tls_timeout: the server accepts and never answers; the probe ends at its deadline', async () => {
    const s = await serve(faultServer('silent'));
    const t0 = performance.now();
    const r = await probe(target({ port: s.port }), ctx(300));
    expect(performance.now() - t0).toBeLessThan(1000);
    expectFailure(r, 'tls_timeout');
    expect(r.phases.connect).toBeGreaterThan(0);
    expect(r.detail).toBe('no answer within 300 ms');
  });

  it('tcp_refused and tcp_reset come from the connect phase', async () => {
    expectFailure(await probe(target({ port: await closedPort() })), 'tcp_refused');
    const s = await serve(faultServer('reset'));
    expectFailure(await probe(target({ port: s.port })), 'tcp_reset');
  });

  it('dns_timeout: the deadline covers the dns phase too', async () => {
    const t0 = performance.now();
    const r = await probe(target({ host: 'slow.test', port: 443 }), ctx(300));
    expect(performance.now() - t0).toBeLessThan(1000);
    expectFailure(r, 'dns_timeout');
    expect(r.ip).toBeNull();
  });

  it('stops promptly when the daemon aborts', async () => {
    const s = await serve(faultServer('silent'));
    const stop = new AbortController();
    const pending = probe(target({ port: s.port }), ctx(10_000, stop.signal));
    setTimeout(() => stop.abort(), 100);
    const t0 = performance.now();
    const r = await pending;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('probe aborted');
  });
});

describe('tls prober: certificates', () => {
  it('tls_cert_invalid for a self-signed certificate; insecure_skip_verify accepts it and still reports the expiry', async () => {
    const s = await tlsServer(certs.selfSigned);
    const verified = await probe(target({ host: 'localhost', port: s.port }));
    expectFailure(verified, 'tls_cert_invalid');
    expect(verified.detail).toMatch(/SELF_SIGNED/);
    const skipped = await probe(target({ host: 'localhost', port: s.port, insecure_skip_verify: true }));
    expect(skipped.ok, skipped.detail).toBe(true);
    expect(skipped.cert_expiry).toBeGreaterThan(Date.now() / 1000);
  });

  it('tls_cert_invalid for an expired certificate; insecure_skip_verify accepts it', async () => {
    const s = await tlsServer(certs.expired);
    const verified = await probe(target({ host: 'localhost', port: s.port }));
    expectFailure(verified, 'tls_cert_invalid');
    expect(verified.detail).toMatch(/CERT_HAS_EXPIRED/);
    const skipped = await probe(target({ host: 'localhost', port: s.port, insecure_skip_verify: true }));
    expect(skipped.ok, skipped.detail).toBe(true);
    expect(skipped.cert_expiry).toBe(Date.UTC(2020, 1, 1) / 1000);
  });

  it('tls_cert_invalid when the certificate does not match the sni', async () => {
    const s = await tlsServer(certs.leaf);
    const r = await probe(target({ port: s.port, sni: 'www.example.test' }));
    expectFailure(r, 'tls_cert_invalid');
    expect(r.detail).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('the default trust store does not know the test CA', async () => {
    const s = await tlsServer(certs.leaf);
    expectFailure(await createTlsProber()(target({ host: 'localhost', port: s.port }), ctx()), 'tls_cert_invalid');
  });
});
