/**
 * Hostile servers: what a middlebox on a censored path does to a connection instead of letting
 * the real server answer. Each behaviour works on a connected stream (a raw TCP socket, or the
 * TLS socket of an accepted handshake for the HTTP behaviours over https), so the same code
 * serves the prober tests (hostileServer() on a free loopback port) and the simulated world
 * (WorldServers routes a target's connections here while a `hostile` fault is active).
 *
 * The DNS misbehaviours (HOSTILE_DNS) are FakeDnsServer behaviours (dnsBehaviourFor()).
 *
 * Every behaviour bounds what it sends by the connection's life: writes stop when the peer goes
 * away (the `endless` ones pump only while the socket drains), and timers are cleared on close.
 * Only loopback addresses are ever bound by the callers.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import type { DnsBehaviour } from './dns-server.js';

/** Misbehaviours of an HTTP server (after the TCP connect, and after TLS for https). */
export const HOSTILE_HTTP = [
  /** The status line, then one header byte every 100 ms, for ever. */
  'http_slow_headers',
  /** Header lines as fast as the client reads, never an empty line. */
  'http_endless_headers',
  /** A complete response head with one 4 MiB header. */
  'http_huge_header',
  /** 200 with no length, then body bytes as fast as the client reads, for ever. */
  'http_endless_body',
  /** 200, Transfer-Encoding: chunked, then a chunk size that is not hex. */
  'http_bad_chunked',
  /** Random bytes where the status line belongs. */
  'http_garbage',
  /** An HTTP/0.9 answer: the body with no status line or headers, then close. */
  'http_09',
] as const;

/** Misbehaviours in place of the TLS server's handshake (after the TCP connect). */
export const HOSTILE_TLS = [
  /** Random bytes in answer to the ClientHello. */
  'tls_garbage',
  /** A handshake whose certificate chain is far larger than any real one (about 300 KiB). */
  'tls_huge_chain',
  /** Warning alert records, thousands of them, in answer to the ClientHello. */
  'tls_alert_storm',
] as const;

/** Misbehaviours of any TCP service. */
export const HOSTILE_TCP = [
  /** Accepts and never sends anything (nor closes). */
  'tcp_silent',
  /** Reads the client's first bytes, sends the first few bytes of an answer, then resets. */
  'tcp_reset_after_data',
] as const;

/**
 * Misbehaviours of a DNS server (a dns target's own server and the vantage's resolver for the
 * target's name), as FakeDnsServer behaviours: see dnsBehaviourFor().
 */
export const HOSTILE_DNS = [
  /** An answer whose owner name is a compression pointer to itself. */
  'dns_compression_loop',
  /** The answer cut off inside its first record (no TC bit). */
  'dns_truncated',
  /** The first 6 bytes of the answer. */
  'dns_short',
  /** Only a forged answer (0.0.0.0) with another message id. */
  'dns_wrong_id',
  /** Only a forged answer (0.0.0.0) for another name. */
  'dns_wrong_question',
  /** A forged answer with another id just before the real one. */
  'dns_forged_first',
  /** The real answer followed by filler records up to 64 KB. */
  'dns_huge',
] as const;

/** Every misbehaviour a `hostile` fault of a scenario can name. */
export const HOSTILE_BEHAVIOURS = [...HOSTILE_HTTP, ...HOSTILE_TLS, ...HOSTILE_TCP, ...HOSTILE_DNS] as const;
export type HostileBehaviour = (typeof HOSTILE_BEHAVIOURS)[number];
export type HostileDns = (typeof HOSTILE_DNS)[number];

export function isHostileDns(b: string): b is HostileDns {
  return (HOSTILE_DNS as readonly string[]).includes(b);
}

/** The FakeDnsServer behaviour of a hostile DNS misbehaviour that answers `A` when it answers. */
export function dnsBehaviourFor(kind: HostileDns, A: string[]): DnsBehaviour {
  switch (kind) {
    case 'dns_compression_loop':
      return { kind: 'malformed', malformed: 'compression-loop', A };
    case 'dns_truncated':
      return { kind: 'malformed', malformed: 'truncated', A };
    case 'dns_short':
      return { kind: 'malformed', malformed: 'short', A };
    case 'dns_wrong_id':
      return { kind: 'mismatch', mismatch: 'wrong-id' };
    case 'dns_wrong_question':
      return { kind: 'mismatch', mismatch: 'wrong-question' };
    case 'dns_forged_first':
      return { kind: 'decoy', decoy: 'wrong-id', A };
    case 'dns_huge':
      return { kind: 'huge', A };
  }
}

/** World target kinds a misbehaviour acts on (dns_* also act on the names of http and https targets). */
export function hostileAppliesTo(b: HostileBehaviour, kind: 'http' | 'https' | 'tls' | 'tcp' | 'dns'): boolean {
  if (isHostileHttp(b)) return kind === 'http' || kind === 'https';
  if (isHostileTls(b)) return kind === 'tls' || kind === 'https';
  if (isHostileTcp(b)) return kind !== 'dns';
  return kind === 'dns' || kind === 'http' || kind === 'https';
}

export type HostileHttp = (typeof HOSTILE_HTTP)[number];
export type HostileTls = (typeof HOSTILE_TLS)[number];
export type HostileTcp = (typeof HOSTILE_TCP)[number];
/** A stream-level misbehaviour (DNS ones live in dns-server.ts). */
export type HostileStream = HostileHttp | HostileTls | HostileTcp;

export function isHostileHttp(b: string): b is HostileHttp {
  return (HOSTILE_HTTP as readonly string[]).includes(b);
}
export function isHostileTls(b: string): b is HostileTls {
  return (HOSTILE_TLS as readonly string[]).includes(b);
}
export function isHostileTcp(b: string): b is HostileTcp {
  return (HOSTILE_TCP as readonly string[]).includes(b);
}

/** Size of the one header of http_huge_header. */
export const HUGE_HEADER_BYTES = 4 * 1024 * 1024;

/** What a hostile connection wrote before it ended (for the tests' memory bounds). */
export interface HostileStats {
  /** Bytes handed to the socket. */
  written: number;
  /** True once the connection closed (either side). */
  closed: boolean;
}

/** Writes `next()` chunks while the socket drains, until `next` returns null or the socket closes. */
function pump(socket: Duplex, stats: HostileStats, next: () => Buffer | null): void {
  const go = (): void => {
    for (;;) {
      if (socket.destroyed || !socket.writable) return;
      const chunk = next();
      if (chunk === null) return;
      stats.written += chunk.length;
      if (!socket.write(chunk)) return;
    }
  };
  socket.on('drain', go);
  go();
}

/** Runs `fn` every `ms` until the socket closes. */
function every(socket: Duplex, ms: number, fn: () => void): void {
  const timer = setInterval(fn, ms);
  socket.once('close', () => clearInterval(timer));
}

/** Calls `fn` once the client has sent its first bytes (a request, a ClientHello). */
function afterFirstBytes(socket: Duplex, fn: () => void): void {
  socket.once('data', () => {
    // Anything more the client sends is read and dropped, so it never blocks on a full window.
    socket.resume();
    fn();
  });
}

function garbage(n: number): Buffer {
  const out = Buffer.alloc(n);
  // Not random: reproducible bytes, none of which starts an HTTP status line or a TLS record.
  for (let i = 0; i < n; i++) out[i] = 0x80 + ((i * 37 + 11) % 0x7f);
  return out;
}

/** The HTTP misbehaviour `kind` on a connected stream (plain TCP or an accepted TLS socket). */
export function actHttp(kind: HostileHttp, socket: Duplex, stats: HostileStats): void {
  afterFirstBytes(socket, () => {
    switch (kind) {
      case 'http_slow_headers': {
        socket.write('HTTP/1.1 200 OK\r\nX-Slow: ');
        every(socket, 100, () => {
          if (socket.writable) {
            stats.written++;
            socket.write('a');
          }
        });
        return;
      }
      case 'http_endless_headers': {
        socket.write('HTTP/1.1 200 OK\r\n');
        let n = 0;
        pump(socket, stats, () => Buffer.from(`X-Filler-${n++}: ${'h'.repeat(200)}\r\n`));
        return;
      }
      case 'http_huge_header': {
        socket.write('HTTP/1.1 200 OK\r\nX-Huge: ');
        let left = HUGE_HEADER_BYTES;
        pump(socket, stats, () => {
          if (left <= 0) {
            socket.end('\r\nContent-Length: 0\r\n\r\n');
            return null;
          }
          const n = Math.min(left, 64 * 1024);
          left -= n;
          return Buffer.alloc(n, 'h');
        });
        return;
      }
      case 'http_endless_body': {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n');
        const chunk = Buffer.alloc(16 * 1024, 'b');
        pump(socket, stats, () => chunk);
        return;
      }
      case 'http_bad_chunked':
        socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n');
        return;
      case 'http_garbage':
        stats.written += 512;
        socket.end(garbage(512));
        return;
      case 'http_09':
        socket.end('<html><body>an HTTP/0.9 answer: no status line, no headers</body></html>\n');
        return;
    }
  });
}

/** The TLS misbehaviour `kind` on a raw TCP socket, in place of the TLS server. */
export function actTls(kind: HostileTls, socket: Socket, stats: HostileStats, hugeChain: () => Buffer): void {
  afterFirstBytes(socket, () => {
    switch (kind) {
      case 'tls_garbage':
        stats.written += 1024;
        socket.end(garbage(1024));
        return;
      case 'tls_huge_chain':
        pump(socket, stats, singleShot(hugeChain()));
        return;
      case 'tls_alert_storm': {
        // A warning-level user_canceled alert (type 21, TLS 1.2 record version, level 1,
        // description 90), repeated: a client that counts warnings gives up; one that does not
        // would read for ever, so the storm is bounded only by the connection.
        const alert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x5a]);
        const burst = Buffer.concat(Array.from({ length: 1024 }, () => alert));
        pump(socket, stats, () => burst);
        return;
      }
    }
  });
}

/** A `next` for pump() that hands out `buf` in 64 KiB pieces once. */
function singleShot(buf: Buffer): () => Buffer | null {
  let at = 0;
  return () => {
    if (at >= buf.length) return null;
    const piece = buf.subarray(at, at + 64 * 1024);
    at += piece.length;
    return piece;
  };
}

/** The TCP misbehaviour `kind` on a raw socket. */
export function actTcp(kind: HostileTcp, socket: Socket, stats: HostileStats): void {
  switch (kind) {
    case 'tcp_silent':
      socket.resume();
      return;
    case 'tcp_reset_after_data':
      socket.once('data', (first: Buffer) => {
        socket.resume();
        // The start of the answer the client waits for, cut short: a TLS record header to a
        // ClientHello (0x16), a status line to anything else.
        const start = first[0] === 0x16 ? Buffer.from([0x16, 0x03, 0x03, 0x00]) : Buffer.from('HTTP/1.1 200 OK\r');
        stats.written += start.length;
        socket.write(start, () => socket.resetAndDestroy());
      });
      return;
  }
}

/**
 * A TLS server's first flight (ServerHello, Certificate with `certs` repeated `copies` times,
 * ServerHelloDone) as TLS 1.2 records: what the client receives when the chain is huge. Built
 * once and sent as bytes: a real TLS stack refuses to load such a chain, and no handshake past
 * the Certificate message is needed (the client gives up while reading it).
 */
export function hugeChainFlight(certDer: Buffer, copies = 300): Buffer {
  const serverHelloBody = Buffer.concat([
    Buffer.from([0x03, 0x03]), // TLS 1.2
    Buffer.alloc(32, 0x42), // random
    Buffer.from([0x00]), // no session id
    Buffer.from([0xc0, 0x2f]), // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    Buffer.from([0x00]), // no compression
    Buffer.from([0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00]), // extensions: renegotiation_info (empty)
  ]);
  const entries = Buffer.concat(Array.from({ length: copies }, () => Buffer.concat([u24(certDer.length), certDer])));
  const certificateBody = Buffer.concat([u24(entries.length), entries]);
  const handshake = Buffer.concat([
    handshakeMessage(2, serverHelloBody),
    handshakeMessage(11, certificateBody),
    handshakeMessage(14, Buffer.alloc(0)),
  ]);
  // Handshake records of at most 2^14 bytes each.
  const records: Buffer[] = [];
  for (let at = 0; at < handshake.length; at += 16384) {
    const frag = handshake.subarray(at, at + 16384);
    records.push(Buffer.from([0x16, 0x03, 0x03, frag.length >> 8, frag.length & 0xff]), frag);
  }
  return Buffer.concat(records);
}

function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}

/** A hostile server for tests: one behaviour for every connection, with per-connection stats. */
export interface HostileServer {
  server: Server;
  /** Stats of every connection so far, in accept order. */
  connections: HostileStats[];
}

export interface HostileServerOptions {
  /** Key and certificate: http_* behaviours then act after a real TLS handshake (https). */
  tls?: { key: string; cert: string };
  /** The certificate (DER) the tls_huge_chain flight repeats; default 1 KiB of filler. */
  certDer?: Buffer;
}

/**
 * A server that answers every connection with `kind`: raw TCP, or for http_* behaviours with
 * `tls` set a TLS server whose accepted connections misbehave. Bind it to loopback only.
 */
export function hostileServer(kind: HostileStream, opts: HostileServerOptions = {}): HostileServer {
  const connections: HostileStats[] = [];
  let flight: Buffer | null = null;
  const hugeChain = (): Buffer => (flight ??= hugeChainFlight(opts.certDer ?? Buffer.alloc(1024, 0x30)));
  const track = (socket: Duplex): HostileStats => {
    const stats: HostileStats = { written: 0, closed: false };
    connections.push(stats);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      stats.closed = true;
    });
    return stats;
  };
  if (opts.tls && isHostileHttp(kind)) {
    const server = createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, (socket) => actHttp(kind, socket, track(socket)));
    server.on('tlsClientError', () => undefined);
    return { server, connections };
  }
  const server = createNetServer((socket) => actStream(kind, socket, track(socket), hugeChain));
  return { server, connections };
}

/** Dispatches a stream behaviour on a raw TCP socket. */
export function actStream(kind: HostileStream, socket: Socket, stats: HostileStats, hugeChain: () => Buffer): void {
  if (isHostileHttp(kind)) actHttp(kind, socket, stats);
  else if (isHostileTls(kind)) actTls(kind, socket, stats, hugeChain);
  else actTcp(kind, socket, stats);
}
