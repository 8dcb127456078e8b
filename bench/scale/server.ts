/**
 * The probed side of the scale benchmark, run as its own process so that its CPU is never
 * counted against the daemon: one TCP listener on the wildcard address of the benchmark's
 * private network namespace, where the only interface is loopback, so it answers every
 * 127.x.y.z target address with a single socket. It accepts, reads and drops whatever comes,
 * and closes when the peer does: the cheapest server a tcp probe can meet.
 * Usage: node server.js PORT   (prints "ready" once it listens)
 */
import process from 'node:process';
import { createServer } from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('usage: server.js PORT');

const server = createServer((socket) => {
  socket.on('error', () => undefined);
  // Flowing, so the peer's FIN is seen and (allowHalfOpen being off) answered with ours.
  socket.resume();
});
server.on('error', (err) => {
  process.stderr.write(`scale server: ${err.message}\n`);
  process.exit(1);
});
// Only ever run inside the benchmark's loopback-only namespace (run.ts checks it first).
server.listen({ port, host: '0.0.0.0', backlog: 4096 }, () => process.stdout.write('ready\n'));
