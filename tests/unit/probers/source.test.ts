import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsTarget, DohTarget, DotTarget, HttpTarget, SourceBinding, TcpTarget, TlsTarget, type ResolvedTarget } from '../../../src/config/schema.js';
import { createDohProber } from '../../../src/probers/doh.js';
import { createDotProber } from '../../../src/probers/dot.js';
import { classifyError } from '../../../src/probers/failure.js';
import { probeDns } from '../../../src/probers/dns.js';
import { createHttpProber } from '../../../src/probers/http.js';
import { createResolver } from '../../../src/probers/resolver.js';
import { localAddressFor, SourceUnavailableError } from '../../../src/probers/source.js';
import { probeTcp } from '../../../src/probers/tcp.js';
import { createTlsProber } from '../../../src/probers/tls.js';
import type { ProbeResult } from '../../../src/probers/types.js';
import { listen, type Running } from '../../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../../fixtures/tls-certs.js';

// Real sockets on loopback: every server records the address each connection or query came
// from, and each probe must leave from its source binding. Linux routes all of 127.0.0.0/8 to
// lo, so 127.0.0.2 and 127.0.0.3 are local addresses without any setup.

const A = SourceBinding.parse({ address: '127.0.0.2', name: 'isp-a' });
const B = SourceBinding.parse({ address: '127.0.0.3', name: 'isp-b' });

let certs: TestCerts;
const running: Running[] = [];
const seen = { tcp: [] as string[], tls: [] as string[], http: [] as string[], dnsUdp: [] as string[], dnsTcp: [] as string[] };
let ports = { tcp: 0, tls: 0, http: 0, dns: 0 };
let udp: UdpSocket;

/** A DNS server on 127.0.0.1 that answers truncated over UDP, so the prober retries over TCP. */
async function dnsServer(): Promise<{ udp: UdpSocket; tcp: Running }> {
  const answer = (q: dnsPacket.Packet, truncated: boolean): Buffer =>
    dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | dnsPacket.RECURSION_DESIRED,
      questions: q.questions,
      answers: truncated ? [] : [{ type: 'A', name: q.questions?.[0]?.name ?? '', ttl: 60, data: '127.0.0.9' }],
    });
  const tcpServer: Server = createNetServer((socket) => {
    seen.dnsTcp.push(socket.remoteAddress ?? '');
    // The prober writes the whole length-prefixed query at once.
    socket.once('data', (chunk: Buffer) => socket.end(lengthPrefix(answer(dnsPacket.decode(chunk.subarray(2)), false))));
  });
  const tcp = await listen(tcpServer, '127.0.0.1');
  const u = createSocket('udp4');
  u.on('message', (msg, rinfo) => {
    seen.dnsUdp.push(rinfo.address);
    u.send(answer(dnsPacket.decode(msg), true), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => u.bind(tcp.port, '127.0.0.1', r));
  return { udp: u, tcp };
}

function lengthPrefix(message: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(message.length);
  return Buffer.concat([len, message]);
}

beforeAll(async () => {
  certs = makeTestCerts();
  const tcp = await listen(createNetServer((s) => (seen.tcp.push(s.remoteAddress ?? ''), s.end())));
  // Recorded at accept: the probe may be done before the server's handshake callback runs.
  const tlsServer = createTlsServer(certs.leaf, (s) => s.end());
  tlsServer.on('connection', (s: { remoteAddress?: string }) => seen.tls.push(s.remoteAddress ?? ''));
  const tls = await listen(tlsServer);
  const http = await listen(createHttpServer((req, res) => (seen.http.push(req.socket.remoteAddress ?? ''), res.end('ok'))));
  const dns = await dnsServer();
  udp = dns.udp;
  running.push(tcp, tls, http, dns.tcp);
  ports = { tcp: tcp.port, tls: tls.port, http: http.port, dns: dns.tcp.port };
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  udp?.close();
  certs?.cleanup();
});

const common = { country: 'ZZ', category: 'test', file: 'test.yaml' };
const targets = (): Record<'tcp' | 'tls' | 'http' | 'dns', ResolvedTarget> => ({
  tcp: { ...TcpTarget.parse({ id: 's-tcp', kind: 'tcp', host: '127.0.0.1', port: ports.tcp }), ...common },
  tls: { ...TlsTarget.parse({ id: 's-tls', kind: 'tls', host: '127.0.0.1', port: ports.tls }), ...common },
  http: { ...HttpTarget.parse({ id: 's-http', kind: 'http', url: `http://127.0.0.1:${ports.http}/` }), ...common },
  dns: {
    ...DnsTarget.parse({ id: 's-dns', kind: 'dns', server: `127.0.0.1:${ports.dns}`, query: { name: 'a.test' }, expect: { answers_in: ['127.0.0.0/8'] } }),
    ...common,
  },
});

async function probe(target: ResolvedTarget, source: SourceBinding | undefined): Promise<ProbeResult> {
  const ctx = { timeoutMs: 2000, signal: new AbortController().signal, resolver: createResolver(), ...(source ? { source } : {}) };
  switch (target.kind) {
    case 'tcp':
      return probeTcp(target, ctx);
    case 'tls':
      return createTlsProber({ ca: certs.ca })(target, ctx);
    case 'http':
      return createHttpProber({ ca: certs.ca })(target, ctx);
    case 'dns':
      return probeDns(target, ctx);
    case 'dot':
      return createDotProber({ ca: certs.ca })(target, ctx);
    case 'doh':
      return createDohProber({ ca: certs.ca })(target, ctx);
    case 'icmp':
      throw new Error('icmp needs fping with CAP_NET_RAW: its source binding is tested in tests/netns/icmp-faults.test.ts');
  }
}

describe('source binding on the dial path', () => {
  for (const kind of ['tcp', 'tls', 'http', 'dns'] as const) {
    it(`${kind}: each probe leaves from its source address, the same endpoint through two paths`, async () => {
      const t = targets()[kind];
      const list = kind === 'dns' ? seen.dnsUdp : seen[kind];
      const from = list.length;
      const tcpFrom = seen.dnsTcp.length;
      const ra = await probe(t, A);
      const rb = await probe(t, B);
      const rd = await probe(t, undefined);
      for (const r of [ra, rb, rd]) expect(r).toMatchObject({ ok: true, reason: null });
      expect(list.slice(from)).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.1']);
      // dns: the truncated UDP answer sends the query again over TCP, from the same source.
      if (kind === 'dns') expect(seen.dnsTcp.slice(tcpFrom)).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.1']);
    });
  }

  it('dot and doh: the TLS connection leaves from the source address too', async () => {
    const query = { name: 'a.test' };
    const dot: ResolvedTarget = { ...DotTarget.parse({ id: 's-dot', kind: 'dot', server: `127.0.0.1:${ports.tls}`, insecure_skip_verify: true, query }), ...common };
    const doh: ResolvedTarget = { ...DohTarget.parse({ id: 's-doh', kind: 'doh', url: `https://127.0.0.1:${ports.tls}/dns-query`, insecure_skip_verify: true, query }), ...common };
    for (const t of [dot, doh]) {
      const from = seen.tls.length;
      // The TLS server ends every connection after the handshake: the probes fail, the source is what counts here.
      await probe(t, A);
      await probe(t, B);
      expect(seen.tls.slice(from), t.kind).toEqual(['127.0.0.2', '127.0.0.3']);
      expect(await probe(t, SourceBinding.parse({ interface: 'lookout-none0', name: 'gone' }))).toMatchObject({ ok: false, reason: 'source_unavailable' });
    }
  });

  it('an interface means its address of the target family, looked up at probe time', async () => {
    const from = seen.tcp.length;
    const r = await probe(targets().tcp, SourceBinding.parse({ interface: 'lo' }));
    expect(r).toMatchObject({ ok: true });
    expect(seen.tcp.slice(from)).toEqual(['127.0.0.1']);
    expect(localAddressFor({ name: 'lo', interface: 'lo' }, '::1')).toBe('::1');
  });

  it('a missing interface, or an address of the other family, is source_unavailable in every kind', async () => {
    const missing = SourceBinding.parse({ interface: 'lookout-none0', name: 'gone' });
    const v6 = SourceBinding.parse({ address: '::1', name: 'v6' });
    for (const t of Object.values(targets())) {
      for (const source of [missing, v6]) {
        const r = await probe(t, source);
        expect(r, `${t.kind} via ${source.name}`).toMatchObject({ ok: false, reason: 'source_unavailable' });
        expect(r.detail).toMatch(source === missing ? /interface lookout-none0 not found/ : /cannot reach the IPv4 address/);
      }
    }
  });

  it('a bind the kernel refuses (EADDRNOTAVAIL) is source_unavailable whatever the phase', () => {
    const refused = Object.assign(new Error('bind EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' });
    expect(classifyError(refused, 'connect')).toBe('network_unreachable');
    const wrapped = new SourceUnavailableError('source x: cannot bind', { cause: refused });
    for (const phase of ['dns', 'connect', 'tls', 'http'] as const) expect(classifyError(wrapped, phase)).toBe('source_unavailable');
  });
});
