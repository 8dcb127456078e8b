/**
 * The probed side of the soak benchmark, its own process so that its CPU is not counted against
 * the daemon. Inside the benchmark's loopback-only network namespace it listens on the wildcard
 * address, so every 127.20.a.b target address reaches it; what a connection meets depends on
 * the address it was made to (the target's index, see plan.ts):
 *   :HTTP_PORT    plain HTTP: 200 "ok", or for a flapping target 503 during its down windows;
 *   :HOSTILE_PORT raw TCP that misbehaves by index: accepts and stays silent, resets the
 *                 connection once the request arrives, or sends the status line and then one
 *                 header byte every 300 ms, never finishing the headers (slow headers).
 * Usage: node server.js FLAP_SECONDS   (prints "ready" once both listen)
 */
import process from 'node:process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { clearInterval, setInterval } from 'node:timers';
import { HOSTILE_PORT, HTTP_PORT, hostileMode, indexOfAddress, isFlapping, flapIsDown } from './plan.js';

const flapSeconds = Number(process.argv[2]);
if (!(flapSeconds > 0)) throw new Error('usage: server.js FLAP_SECONDS');

const http = createHttpServer((req, res) => {
  req.resume();
  const i = indexOfAddress(req.socket.localAddress ?? '');
  const down = i !== null && isFlapping(i) && flapIsDown(i, Date.now() / 1000, flapSeconds);
  res.writeHead(down ? 503 : 200, { 'content-type': 'text/plain', 'content-length': down ? 4 : 3 });
  res.end(down ? 'down' : 'ok\n');
});
http.keepAliveTimeout = 1000;

const hostile = createTcpServer((socket) => {
  socket.on('error', () => undefined);
  const i = indexOfAddress(socket.localAddress ?? '');
  const mode = i === null ? 'silent' : hostileMode(i);
  // Flowing, so the peer's close is seen and answered (allowHalfOpen is off).
  socket.resume();
  if (mode === 'reset') {
    socket.once('data', () => socket.resetAndDestroy());
  } else if (mode === 'slow-headers') {
    socket.write('HTTP/1.1 200 OK\r\n');
    const drip = setInterval(() => socket.write('X'), 300);
    socket.once('close', () => clearInterval(drip));
  }
  // 'silent': nothing at all; the probe's timeout ends it.
});

for (const server of [http, hostile]) {
  server.on('error', (err) => {
    process.stderr.write(`soak server: ${err.message}\n`);
    process.exit(1);
  });
}

let listening = 0;
const onListening = () => {
  listening += 1;
  if (listening === 2) process.stdout.write('ready\n');
};
// Only ever run inside the benchmark's loopback-only namespace (run.ts checks it first).
http.listen({ port: HTTP_PORT, host: '0.0.0.0', backlog: 4096 }, onListening);
hostile.listen({ port: HOSTILE_PORT, host: '0.0.0.0', backlog: 4096 }, onListening);
