/**
 * The tcp prober: resolve, connect, close. Phases dns (names only), connect, total.
 */
import type { TcpResolved } from '../config/schema.js';
import { Deadline, destroyQuietly, dialTcp, ProbeClock, resolveHost } from './dial.js';
import { classifyError, describeError } from './failure.js';
import type { Prober } from './types.js';

/**
 * Probes a tcp target: one TCP connection to host:port, destroyed as soon as it is up. One
 * deadline (ctx.timeoutMs) covers resolution and connect; when it fires the probe fails as
 * dns_timeout or tcp_timeout by the phase in progress. Never rejects for a network outcome.
 */
export const probeTcp: Prober<TcpResolved> = async (target, ctx) => {
  const clock = new ProbeClock();
  const deadline = new Deadline(ctx.timeoutMs, ctx.signal);
  let ip: string | null = null;
  try {
    ip = await resolveHost(target.host, ctx.resolver, clock, deadline.signal);
    const dialled = ip;
    const socket = await clock.run('connect', 'connect', () => dialTcp(dialled, target.port, deadline.signal));
    destroyQuietly(socket);
    return clock.result(target.id, 'tcp', { ok: true, reason: null, ip });
  } catch (err) {
    const detail = deadline.describe() ?? describeError(err);
    return clock.result(target.id, 'tcp', { ok: false, reason: classifyError(err, clock.current), ip, detail });
  } finally {
    deadline.dispose();
  }
};
