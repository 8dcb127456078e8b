/**
 * The tls prober: resolve, connect, TLS handshake, close. Phases dns (names only), connect,
 * tls, total; cert_expiry from the leaf certificate.
 */
import type { TlsResolved } from '../config/schema.js';
import { Deadline } from './deadline.js';
import { ProbeClock } from './probe-clock.js';
import { certExpiry, handshakeTls, type TrustOptions } from './tls-handshake.js';
import { connectHost, destroyQuietly, ipLiteral } from './dial.js';
import type { Prober } from './types.js';

/**
 * A tls prober. The handshake sends SNI `sni` (else the host when it is a name) and verifies
 * the chain and the name unless `insecure_skip_verify`. One deadline (ctx.timeoutMs) covers
 * every phase; a failure is classified by the phase in progress (a reset, alert, clean close or
 * silence during the handshake: tls_reset, tls_alert, tls_eof, tls_timeout; a certificate that
 * fails verification: tls_cert_invalid). `trust` replaces the system roots (tests, private PKI).
 */
export function createTlsProber(trust: TrustOptions = {}): Prober<TlsResolved> {
  return async (target, ctx) => {
    const clock = new ProbeClock();
    const deadline = new Deadline(ctx.timeoutMs, ctx.signal);
    const dialled = { ip: null as string | null };
    try {
      const socket = await connectHost(target.host, target.port, ctx, clock, deadline, dialled);
      const servername = target.sni ?? (ipLiteral(target.host) === null ? target.host : undefined);
      const tls = await clock.run('tls', 'tls', () =>
        handshakeTls(socket, { servername, verify: !target.insecure_skip_verify, verifyHost: ipLiteral(target.host) ?? target.host, ...trust }, deadline),
      );
      const expiry = certExpiry(tls);
      destroyQuietly(tls);
      return clock.result(target.id, 'tls', { ok: true, reason: null, ip: dialled.ip, ...(expiry !== undefined ? { cert_expiry: expiry } : {}) });
    } catch (err) {
      return clock.result(target.id, 'tls', { ok: false, ip: dialled.ip, ...clock.failure(err, deadline) });
    } finally {
      deadline.dispose();
    }
  };
}

/** The tls prober with the system's trust store. */
export const probeTls: Prober<TlsResolved> = createTlsProber();
