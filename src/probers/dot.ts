/**
 * The dot prober, DNS over TLS (RFC 7858): resolve the server's name if it has one, connect,
 * TLS handshake, one query framed as DNS over TCP (2-byte length prefix), the answer judged as
 * the dns prober judges it. Phases connect, tls, dns (query to answer), total.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { splitHostPort, type DotResolved } from '../config/schema.js';
import { Deadline } from './deadline.js';
import { destroyQuietly, dialTcp, ipLiteral, resolveHost } from './dial.js';
import { answerResult, newQuery, Rejected } from './dns-answer.js';
import { closedBeforeAnswer, exchangeFramed } from './dns-stream.js';
import { ProbeClock } from './probe-clock.js';
import { localAddressFor } from './source.js';
import { certExpiry, handshakeTls, type TrustOptions } from './tls-handshake.js';
import { classifyError, describeError } from './failure.js';
import type { FailureReason } from './reasons.js';
import type { ProbeResult, Prober } from './types.js';

/**
 * The reason for a failure after the handshake, while waiting for the answer. Time up or the
 * stream closed: what came instead names it (dns_malformed, dns_mismatch), else dns_timeout
 * (the answer never came, as for DNS over TCP). A reset or an alert on the TLS stream is a
 * tls reason (tls_reset, tls_alert): interference with the encrypted connection itself.
 */
export function answerFailure(err: unknown, deadline: Deadline, rejected: Rejected, timeoutMs: number, aborted: boolean): { reason: FailureReason; detail: string } {
  if (deadline.fired || closedBeforeAnswer(err)) {
    const instead = aborted ? null : rejected.failure(timeoutMs);
    if (instead) return { reason: classifyError(instead, 'dns'), detail: instead.message };
    return { reason: 'dns_timeout', detail: deadline.describe() ?? describeError(err) };
  }
  return { reason: classifyError(err, 'tls'), detail: describeError(err) };
}

/**
 * A dot prober. The server is `server` (an IP literal, or a name resolved through the probe's
 * resolver: that bootstrap lookup counts in `total` only, and its failure is a dns reason). The
 * handshake sends SNI `sni` (else the server's name when it is one) and verifies the chain and
 * the name unless `insecure_skip_verify`. One deadline (ctx.timeoutMs) covers every phase; a
 * failure is classified by the phase in progress: tcp_timeout / tcp_refused / network_unreachable
 * at connect, tls_* during the handshake (a reset after the ClientHello, SNI filtering, is
 * tls_reset), and while waiting for the answer see answerFailure. The answer is judged with the
 * dns prober's rules (judgeResponse). `trust` replaces the system roots (tests, private PKI).
 */
export function createDotProber(trust: TrustOptions = {}): Prober<DotResolved> {
  return async (target, ctx) => {
    const hp = splitHostPort(target.server);
    if (!hp) throw new TypeError(`dot target ${target.id}: invalid server "${target.server}"`);
    const clock = new ProbeClock();
    const deadline = new Deadline(ctx.timeoutMs, ctx.signal);
    const rejected = new Rejected();
    let ip: string | null = null;
    let socket: Socket | undefined;
    let tls: TLSSocket | undefined;
    let querying = false;
    let expiry: number | undefined;
    const result = (fields: Pick<ProbeResult, 'ok' | 'reason'> & Partial<ProbeResult>): ProbeResult =>
      clock.result(target.id, 'dot', { ip, ...(expiry !== undefined ? { cert_expiry: expiry } : {}), ...fields });
    try {
      // A scratch clock: the bootstrap lookup is not the dns phase (that is the query itself).
      ip = await resolveHost(hp.host, ctx.resolver, new ProbeClock(), deadline);
      const dialled = ip;
      const plain = await clock.run('connect', 'connect', async () => dialTcp(dialled, hp.port, deadline, localAddressFor(ctx.source, dialled)));
      socket = plain;
      const literal = ipLiteral(hp.host);
      const servername = target.sni ?? (literal === null ? hp.host : undefined);
      const options = { servername, verify: !target.insecure_skip_verify, verifyHost: literal ?? hp.host, ...trust };
      const secured = await clock.run('tls', 'tls', () => handshakeTls(plain, options, deadline));
      tls = secured;
      expiry = certExpiry(secured);
      querying = true;
      const response = await clock.run('dns', 'dns', () => exchangeFramed(secured, newQuery(target.query), deadline, rejected));
      return result(answerResult(response, target));
    } catch (err) {
      if (querying) return result({ ok: false, ...answerFailure(err, deadline, rejected, ctx.timeoutMs, ctx.signal.aborted) });
      return result({ ok: false, ...clock.failure(err, deadline) });
    } finally {
      deadline.dispose();
      destroyQuietly(tls);
      destroyQuietly(socket);
    }
  };
}

/** The dot prober with the system's trust store. */
export const probeDot: Prober<DotResolved> = createDotProber();
