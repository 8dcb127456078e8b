/**
 * The probed side of the per-probe cost benchmark, run as its own process so that its CPU is
 * never counted against either prober. Binds N distinct loopback targets:
 *   http/tcp: a minimal HTTP server on 127.20.a.b:8080 (a tcp probe just connects and closes),
 *   dns:      a minimal UDP DNS server on 127.20.a.b:5353 answering every A query with 127.0.0.1.
 * Usage: node servers.mjs N   (prints "ready" on stdout once every socket listens)
 * Only 127.0.0.0/8 addresses are ever bound.
 */
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import dnsPacket from 'dns-packet';
import { HTTP_PORT, DNS_PORT, targetAddress } from '../common/targets.mjs';

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) throw new Error('usage: servers.mjs N');

const body = Buffer.from('ok\n');

function listenHttp(host) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  // Connections that only connect and close (tcp probes) must not leave errors behind.
  server.on('clientError', (_err, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(HTTP_PORT, host, resolve);
  });
}

function listenDns(host) {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let query;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const answers = question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 60, data: '127.0.0.1' }] : [];
    const reply = dnsPacket.encode({
      id: query.id,
      type: 'response',
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (query.flags & dnsPacket.RECURSION_DESIRED),
      questions: [question],
      answers,
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(DNS_PORT, host, resolve);
  });
}

const hosts = Array.from({ length: n }, (_, i) => targetAddress(i));
await Promise.all(hosts.flatMap((h) => [listenHttp(h), listenDns(h)]));
process.stdout.write('ready\n');
