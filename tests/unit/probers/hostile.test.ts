/**
 * The probers against hostile servers (src/sim/hostile.ts, the DNS misbehaviours of
 * src/sim/dns-server.ts) on real loopback sockets: every behaviour ends with a specific reason,
 * within the probe's timeout (asserted loosely), and without reading an unbounded amount.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsTarget, HttpTarget, TcpTarget, TlsTarget, type DnsResolved, type HttpResolved, type TcpResolved, type TlsResolved } from '../../../src/config/schema.js';
import { probeDns } from '../../../src/probers/dns.js';
import { createHttpProber } from '../../../src/probers/http.js';
import type { FailureReason } from '../../../src/probers/reasons.js';
import { createResolver } from '../../../src/probers/resolver.js';
import { probeTcp } from '../../../src/probers/tcp.js';
import { createTlsProber } from '../../../src/probers/tls.js';
import type { ProbeContext, ProbeResult } from '../../../src/probers/types.js';
import { hostileServer, type HostileServer, type HostileStats, type HostileStream } from '../../../src/sim/hostile.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';
import { listen, type Running } from '../../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../../fixtures/tls-certs.js';

/** Probe timeout: short, the slow behaviours run into it. */
const TIMEOUT_MS = 800;
/** Slack over the timeout a probe may take to return (loose: this is not a timing benchmark). */
const SLACK_MS = 1000;
/** What a server may have handed its socket before the prober hung up: kernel buffers, not the stream. */
const WRITTEN_BOUND = 32 * 1024 * 1024;

let certs: TestCerts;
let dns: FakeDnsServer;
const running: Running[] = [];

beforeAll(async () => {
  certs = makeTestCerts();
  dns = await startDnsServer({
    'real.test': { kind: 'answer', A: ['203.0.113.40'] },
    'loop.test': { kind: 'malformed', malformed: 'compression-loop', A: ['203.0.113.41'] },
    'cut.test': { kind: 'malformed', malformed: 'truncated', A: ['203.0.113.42'] },
    'short.test': { kind: 'malformed', malformed: 'short', A: ['203.0.113.43'] },
    'forged-id.test': { kind: 'mismatch', mismatch: 'wrong-id' },
    'forged-q.test': { kind: 'mismatch', mismatch: 'wrong-question' },
    'decoy-loop.test': { kind: 'decoy', decoy: 'malformed', A: ['203.0.113.44'] },
    'decoy-id.test': { kind: 'decoy', decoy: 'wrong-id', A: ['203.0.113.45'] },
    'huge.test': { kind: 'huge', A: ['203.0.113.46'] },
    'tcp-loop.test': { kind: 'truncated', tcp: 'malformed', A: ['203.0.113.47'] },
    'site.test': { kind: 'answer', A: ['127.0.0.1'] },
  });
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await dns.close();
  certs.cleanup();
});

async function serve(kind: HostileStream, tls = false): Promise<{ port: number; hostile: HostileServer }> {
  const hostile = hostileServer(kind, tls ? { tls: certs.leaf } : {});
  const r = await listen(hostile.server);
  running.push(r);
  return { port: r.port, hostile };
}

function ctx(timeoutMs = TIMEOUT_MS): ProbeContext {
  return { timeoutMs, signal: new AbortController().signal, resolver: createResolver([dns.address], { attemptTimeoutMs: 300, tries: 1 }) };
}

const common = { country: 'ZZ', category: 'test', file: 'test.yaml' } as const;

function httpTarget(url: string, bodyCheck: boolean): HttpResolved {
  return { ...HttpTarget.parse({ id: 'h', kind: 'http', url, ...(bodyCheck ? { expect: { body_contains: 'welcome' } } : {}) }), ...common };
}
const tlsTarget = (port: number): TlsResolved => ({ ...TlsTarget.parse({ id: 't', kind: 'tls', host: '127.0.0.1', port }), ...common });
const tcpTarget = (port: number): TcpResolved => ({ ...TcpTarget.parse({ id: 'c', kind: 'tcp', host: '127.0.0.1', port }), ...common });
function dnsTarget(name: string, answersIn?: string[]): DnsResolved {
  return { ...DnsTarget.parse({ id: 'd', kind: 'dns', server: dns.address, query: { name, type: 'A' }, ...(answersIn ? { expect: { answers_in: answersIn } } : {}) }), ...common };
}

/** Runs a probe, asserting it returns within the timeout plus slack. */
async function timed(run: () => Promise<ProbeResult>, timeoutMs = TIMEOUT_MS): Promise<ProbeResult> {
  const t0 = performance.now();
  const r = await run();
  expect(performance.now() - t0).toBeLessThan(timeoutMs + SLACK_MS);
  return r;
}

function expectReason(r: ProbeResult, reason: FailureReason | null): void {
  expect(r.reason, r.detail).toBe(reason);
  expect(r.ok).toBe(reason === null);
}

/** Resolves once the server saw its connection closed, failing past `ms`. */
async function closedWithin(stats: HostileStats | undefined, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (!stats?.closed) {
    if (performance.now() > until) throw new Error(`the connection was still open ${ms} ms after the probe`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const httpProbe = (t: HttpResolved, c = ctx()): Promise<ProbeResult> => createHttpProber({ ca: certs.ca })(t, c);

/**
 * Each HTTP misbehaviour, by whether a body check is configured (the body is read only then):
 * the reason over plain http and over https.
 */
const HTTP_CASES: [HostileStream, FailureReason | null, FailureReason | null][] = [
  // [behaviour, without a body check, with one]
  ['http_slow_headers', 'http_timeout', 'http_timeout'],
  ['http_endless_headers', 'http_protocol_error', 'http_protocol_error'],
  ['http_huge_header', 'http_protocol_error', 'http_protocol_error'],
  // A 200 head is the answer when the body is not checked; with a check, the cap is reached first.
  ['http_endless_body', null, 'http_body_mismatch'],
  ['http_bad_chunked', null, 'http_protocol_error'],
  ['http_garbage', 'http_protocol_error', 'http_protocol_error'],
  ['http_09', 'http_protocol_error', 'http_protocol_error'],
  ['tcp_silent', 'http_timeout', 'http_timeout'],
  ['tcp_reset_after_data', 'http_reset', 'http_reset'],
];

describe('http prober against hostile servers', () => {
  for (const scheme of ['http', 'https'] as const) {
    // Over https the tcp_* behaviours hit the handshake: see the tls prober's cases.
    for (const [kind, plainReason, checkedReason] of HTTP_CASES.filter(([k]) => scheme === 'http' || k.startsWith('http_'))) {
      it(`${scheme} ${kind}: ${plainReason ?? 'ok'} without a body check, ${checkedReason ?? 'ok'} with one; connection closed, bounded`, async () => {
        const { port, hostile } = await serve(kind, scheme === 'https');
        for (const [check, reason] of [[false, plainReason], [true, checkedReason]] as const) {
          const r = await timed(() => httpProbe(httpTarget(`${scheme}://127.0.0.1:${port}/`, check)));
          expectReason(r, reason);
          const stats = hostile.connections.at(-1);
          // Closed well before the 2 s a finished probe lets a response linger: the prober hung up.
          await closedWithin(stats, 1500);
          expect(stats?.written ?? 0).toBeLessThan(WRITTEN_BOUND);
        }
      });
    }
  }
});

/** Each TLS-level misbehaviour against the tls prober (and https, which fails the same way). */
const TLS_CASES: [HostileStream, FailureReason][] = [
  ['tls_garbage', 'tls_protocol_error'],
  ['tls_huge_chain', 'tls_protocol_error'],
  ['tls_alert_storm', 'tls_protocol_error'],
  ['tcp_silent', 'tls_timeout'],
  // Node 20's TLS layer reports a reset that follows partial handshake bytes as it does a clean
  // close ("disconnected before secure TLS connection"); Node 24 reports the reset (tls_reset).
  ['tcp_reset_after_data', Number(process.versions.node.split('.')[0]) >= 24 ? 'tls_reset' : 'tls_eof'],
];

describe('tls prober against hostile servers', () => {
  for (const [kind, reason] of TLS_CASES) {
    it(`${kind}: ${reason} from tls and https probes; connection closed, bounded`, async () => {
      const { port, hostile } = await serve(kind);
      const r = await timed(() => createTlsProber({ ca: certs.ca })(tlsTarget(port), ctx()));
      expectReason(r, reason);
      expect(r.phases.connect).toBeGreaterThan(0);
      expect(r.phases.tls).toBeUndefined();
      const h = await timed(() => httpProbe(httpTarget(`https://127.0.0.1:${port}/`, true)));
      expectReason(h, reason);
      const stats = hostile.connections.at(-1);
      await closedWithin(stats, 1500);
      expect(stats?.written ?? 0).toBeLessThan(WRITTEN_BOUND);
    });
  }

  it('the huge chain is refused while its Certificate message is read, not after all of it', async () => {
    const { port, hostile } = await serve('tls_huge_chain');
    const r = await timed(() => createTlsProber()(tlsTarget(port), ctx()));
    expectReason(r, 'tls_protocol_error');
    expect(r.detail).toMatch(/excessive message size/i);
    await closedWithin(hostile.connections.at(-1), 1500);
  });

  it('the alert storm is cut short by the warning-alert limit', async () => {
    const { port } = await serve('tls_alert_storm');
    const r = await timed(() => createTlsProber()(tlsTarget(port), ctx()));
    expect(r.detail).toMatch(/too many warn alerts/i);
  });
});

describe('tcp prober against hostile servers', () => {
  // A tcp probe sends nothing: a server that waits for data (or never talks) is reachable.
  for (const kind of ['tcp_silent', 'tcp_reset_after_data', 'http_garbage', 'tls_garbage'] as const) {
    it(`${kind}: connected, ok`, async () => {
      const { port } = await serve(kind);
      expectReason(await timed(() => probeTcp(tcpTarget(port), ctx())), null);
    });
  }
});

describe('dns prober against hostile DNS servers', () => {
  const MALFORMED: [string, RegExp][] = [
    ['loop.test', /bad pointer/],
    ['cut.test', /overflow|out of range|outside|bounds/i],
    ['short.test', /.+/],
  ];
  for (const [name, why] of MALFORMED) {
    it(`${name}: only an undecodable answer is dns_malformed at the deadline`, async () => {
      const r = await timed(() => probeDns(dnsTarget(name), ctx()));
      expectReason(r, 'dns_malformed');
      expect(r.detail).toMatch(/1 undecodable message/);
      expect(r.detail).toMatch(why);
    });
  }

  it('over TCP (after a truncated UDP answer): an undecodable answer, then the close, is dns_malformed at once', async () => {
    const r = await timed(() => probeDns(dnsTarget('tcp-loop.test'), ctx()));
    expectReason(r, 'dns_malformed');
    expect(r.detail).toMatch(/bad pointer/);
    expect(r.phases.total).toBeLessThan(TIMEOUT_MS / 1000);
  });

  for (const name of ['forged-id.test', 'forged-q.test']) {
    it(`${name}: only a forged answer for another query is dns_mismatch, never taken as the answer`, async () => {
      const r = await timed(() => probeDns(dnsTarget(name), ctx()));
      expectReason(r, 'dns_mismatch');
      expect(r.detail).toMatch(/1 response\(s\) to another query/);
    });
  }

  for (const name of ['decoy-loop.test', 'decoy-id.test']) {
    it(`${name}: a bad answer just before the real one is skipped and the real one taken`, async () => {
      const r = await timed(() => probeDns(dnsTarget(name, ['203.0.113.0/24']), ctx()));
      expectReason(r, null);
      // Not at the deadline: the real answer came right after the decoy.
      expect(r.phases.total).toBeLessThan(TIMEOUT_MS / 1000);
    });
  }

  it('64 KB of records: judged like any answer, the detail names ten addresses', async () => {
    const r = await timed(() => probeDns(dnsTarget('huge.test', ['203.0.113.46/32']), ctx()));
    expectReason(r, 'dns_unexpected_answer');
    expect(r.detail).toMatch(/^answers: 203\.0\.113\.46, 198\.51\.100\.1, .* \(and \d{3,} more\)$/);
    expect(r.detail?.length ?? 0).toBeLessThan(300);
    expectReason(await timed(() => probeDns(dnsTarget('huge.test'), ctx())), null);
  });

  it('the probers resolving a name: an undecodable answer from the resolver is dns_malformed', async () => {
    const r = await timed(() => httpProbe(httpTarget('http://loop.test:9/', false)));
    expectReason(r, 'dns_malformed');
  });

  it('the probers resolving a name: a forged answer for another query is never dialled (dns_timeout)', async () => {
    // The system-level resolver (c-ares) drops mismatched answers silently: all it can say is
    // that no answer came.
    const r = await timed(() => httpProbe(httpTarget('http://forged-id.test:9/', false)));
    expectReason(r, 'dns_timeout');
    expect(r.ip).toBeNull();
  });
});
