/**
 * The probed side of the per-probe cost benchmark, run as its own process so that its CPU is
 * never counted against either prober. Binds N distinct loopback targets:
 *   http/tcp: a minimal HTTP server on 127.20.a.b:8080 (a tcp probe just connects and closes),
 *   dns:      a minimal UDP DNS server on 127.20.a.b:5353 answering every A query with 127.0.0.1,
 *   dot:      the same answers over TLS on 127.20.a.b:853 (RFC 7858 framing),
 *   doh:      the same answers over HTTPS (h2 and http/1.1) on 127.20.a.b:8443, POST or GET ?dns=,
 *   dot and doh with one self-signed certificate made at start (probers skip verification).
 * Usage: node servers.js N   (prints "ready" on stdout once every socket listens)
 * Only 127.0.0.0/8 addresses are ever bound.
 */
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { createServer } from 'node:http';
import { createSecureServer } from 'node:http2';
import { createServer as createTlsServer } from 'node:tls';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';
import { generate } from 'selfsigned';
import { HTTP_PORT, DNS_PORT, DOH_PORT, DOT_PORT, targetAddress } from '../common/targets.js';

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) throw new Error('usage: servers.js N');

const body = Buffer.from('ok\n');

/** The self-signed key and certificate the TLS servers present. */
interface Cert {
  key: string;
  cert: string;
}

function listenHttp(host: string): Promise<void> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  // Connections that only connect and close (tcp probes) must not leave errors behind.
  server.on('clientError', (_err, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(HTTP_PORT, host, () => resolve());
  });
}

/** The reply to one query message (every A query answered with 127.0.0.1), or null for garbage. */
function answer(msg: Buffer): Buffer | null {
  let query: Packet;
  try {
    query = dnsPacket.decode(msg);
  } catch {
    return null;
  }
  const question = query.questions?.[0];
  if (!question) return null;
  const answers: Answer[] = question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 60, data: '127.0.0.1' }] : [];
  return dnsPacket.encode({
    id: query.id,
    type: 'response',
    flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
    questions: [question],
    answers,
  });
}

function listenDns(host: string): Promise<void> {
  const socket = createSocket('udp4');
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const reply = answer(msg);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(DNS_PORT, host, () => resolve());
  });
}

/** DNS over TLS: length-prefixed queries on a TLS stream, each answered in turn. */
function listenDot(host: string, cert: Cert): Promise<void> {
  const server = createTlsServer(cert, (socket) => {
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const reply = answer(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        if (!reply) continue;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(reply.length, 0);
        socket.write(Buffer.concat([len, reply]));
      }
    });
  });
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(DOT_PORT, host, () => resolve());
  });
}

/** DNS over HTTPS: POST bodies or GET ?dns= on any path, answered as application/dns-message. */
function listenDoh(host: string, cert: Cert): Promise<void> {
  const server = createSecureServer({ ...cert, allowHTTP1: true }, (req, res) => {
    const reply = (msg: Buffer | null): void => {
      const out = msg ? answer(msg) : null;
      if (!out) res.writeHead(400).end();
      else res.writeHead(200, { 'content-type': 'application/dns-message', 'content-length': out.length }).end(out);
    };
    if (req.method === 'GET') {
      const dns = new URL(req.url ?? '/', 'https://x').searchParams.get('dns');
      reply(dns === null ? null : Buffer.from(dns, 'base64url'));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => reply(Buffer.concat(chunks)));
  });
  server.on('sessionError', () => undefined);
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(DOH_PORT, host, () => resolve());
  });
}

const pems = await generate([{ name: 'commonName', value: 'bench.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
const cert: Cert = { key: pems.private, cert: pems.cert };
const hosts = Array.from({ length: n }, (_, i) => targetAddress(i));
await Promise.all(hosts.flatMap((h) => [listenHttp(h), listenDns(h), listenDot(h, cert), listenDoh(h, cert)]));
process.stdout.write('ready\n');
