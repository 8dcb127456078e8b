/**
 * The tcp prober: resolve, connect, watch briefly for a reset, close. Phases dns (names only),
 * connect, total.
 */
import type { Socket } from 'node:net';
import type { TcpResolved } from '../config/schema.js';
import { Deadline } from './deadline.js';
import { ProbeClock } from './probe-clock.js';
import { connectHost, destroyQuietly } from './dial.js';
import { classifyError, describeError } from './failure.js';
import type { Prober } from './types.js';

/**
 * How long a fresh connection is watched for a reset after the handshake. The kernel completes
 * the handshake before any program sees the connection, so a firewall or censoring proxy that
 * accepts and then resets is only visible just after connect; such resets come at once.
 */
export const RESET_WATCH_MS = 100;

/**
 * Probes a tcp target: one TCP connection to host:port, watched for up to RESET_WATCH_MS for
 * a reset (tcp_reset), then destroyed. A clean close by the server is not a failure. One
 * deadline (ctx.timeoutMs) covers resolution, connect and the watch; when it fires during
 * resolution or connect the probe fails as dns_timeout or tcp_timeout. `total` ends at connect:
 * the watch is not latency. Never rejects for a network outcome.
 */
export const probeTcp: Prober<TcpResolved> = async (target, ctx) => {
  const clock = new ProbeClock();
  const deadline = new Deadline(ctx.timeoutMs, ctx.signal);
  const dialled = { ip: null as string | null };
  try {
    const socket = await connectHost(target.host, target.port, ctx, clock, deadline, dialled);
    const connected = clock.result(target.id, 'tcp', { ok: true, reason: null, ip: dialled.ip });
    const reset = await watchForReset(socket, RESET_WATCH_MS, deadline);
    destroyQuietly(socket);
    if (reset === null) return connected;
    return { ...connected, ok: false, reason: classifyError(reset, 'connect'), detail: describeError(reset) };
  } catch (err) {
    return clock.result(target.id, 'tcp', { ok: false, ip: dialled.ip, ...clock.failure(err, deadline) });
  } finally {
    deadline.dispose();
  }
};

/** Resolves with the socket's error if one comes within `ms`, else null (also on close or when the deadline fires). */
function watchForReset(socket: Socket, ms: number, deadline: Deadline): Promise<Error | null> {
  return new Promise((resolve) => {
    let unsubscribe = (): void => undefined;
    const done = (err: Error | null): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      unsubscribe();
      resolve(err);
    };
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(null);
    const timer = setTimeout(() => done(null), ms);
    socket.on('error', onError);
    socket.once('close', onClose);
    // (A deadline that has already fired calls done() at once.)
    unsubscribe = deadline.onFire(() => done(null));
    // Read (and drop) anything the server sends so that a close is seen as 'close'.
    socket.resume();
  });
}
