/**
 * The dns prober: one query to the target's server over UDP (TCP when the answer is truncated),
 * judged against the target's expectations. Answers are only inspected, never dialled.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as dnsPacket from 'dns-packet';
import { splitHostPort, type DnsResolved } from '../config/schema.js';
import { Deadline, probeResult } from './dial.js';
import { cidrMatcher, isBogon } from './bogon.js';
import { classifyError, describeError } from './failure.js';
import type { FailureReason } from './reasons.js';
import { localAddressFor, sourceBindError } from './source.js';
import type { ProbeResult, Prober } from './types.js';

/** The verdict on one response. */
export interface DnsVerdict {
  reason: FailureReason | null;
  /** What was found, for logs: "rcode: NXDOMAIN", "answers: 0.0.0.0". */
  detail?: string;
}

const RCODE_REASONS: Record<string, FailureReason> = {
  NXDOMAIN: 'dns_nxdomain',
  SERVFAIL: 'dns_servfail',
  REFUSED: 'dns_refused',
};

/**
 * Judges a response, in this order: an rcode other than expect.rcode (NXDOMAIN, SERVFAIL and
 * REFUSED by name; NOERROR where a failure was expected is dns_unexpected_answer; any other rcode
 * is dns_servfail); NOERROR without an answer of the queried type is dns_no_answer; for A/AAAA an
 * answer in bogon space not covered by expect.answers_in is dns_bogon_answer, and with answers_in
 * set an answer outside it is dns_unexpected_answer. Otherwise ok. Pure.
 */
export function judgeResponse(response: DnsMessage, target: DnsResolved): DnsVerdict {
  const rcode = response.rcode;
  const expected = target.expect.rcode;
  if (rcode !== expected) {
    const reason = RCODE_REASONS[rcode] ?? (rcode === 'NOERROR' ? 'dns_unexpected_answer' : 'dns_servfail');
    return { reason, detail: `rcode: ${rcode}, expected ${expected}` };
  }
  // An expected failure rcode (say NXDOMAIN for a name that must not exist) is the success.
  if (rcode !== 'NOERROR') return { reason: null };

  const type = target.query.type;
  const answers = (response.answers ?? []).filter((a) => a.type === type);
  if (answers.length === 0) return { reason: 'dns_no_answer', detail: `no ${type} answer` };
  if (type !== 'A' && type !== 'AAAA') return { reason: null };

  const addresses = answers.flatMap((a) => ('data' in a && typeof a.data === 'string' ? [a.data] : []));
  const detail = describeAnswers(addresses);
  const allowed = target.expect.answers_in ? cidrMatcher(target.expect.answers_in) : () => false;
  if (addresses.some((ip) => isBogon(ip) && !allowed(ip))) return { reason: 'dns_bogon_answer', detail };
  if (target.expect.answers_in && !addresses.every(allowed)) return { reason: 'dns_unexpected_answer', detail };
  return { reason: null };
}

/** Addresses named in a verdict's detail at most; a 64 KB answer holds thousands. */
const DETAIL_ADDRESSES = 10;

function describeAnswers(addresses: readonly string[]): string {
  const more = addresses.length - DETAIL_ADDRESSES;
  return `answers: ${addresses.slice(0, DETAIL_ADDRESSES).join(', ')}${more > 0 ? ` (and ${more} more)` : ''}`;
}

/** A decoded response; dns-packet decodes the rcode but its types omit it. */
export type DnsMessage = dnsPacket.DecodedPacket & { rcode: string };

function sameName(a: string, b: string): boolean {
  return a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

/**
 * Messages a query received that were not its answer. They are skipped (an injector's forged
 * answer may come first, the real one after it); should the real one never come, they name
 * the failure: dns_malformed or dns_mismatch rather than dns_timeout.
 */
export class Rejected {
  /** Messages that did not decode (compression loops, packets cut short, garbage). */
  malformed = 0;
  /** Responses to another query: another id, another question, or not a response at all. */
  mismatched = 0;
  /** The first decoder error, for the detail. */
  firstError: string | null = null;

  /** An Error coded for classifyError (LOOKOUT_DNS_MALFORMED / _MISMATCH), or null when nothing was rejected. */
  failure(timeoutMs: number): Error | null {
    const within = `no valid answer within ${timeoutMs} ms`;
    if (this.malformed > 0) {
      return Object.assign(new Error(`${within}; ${this.malformed} undecodable message(s): ${this.firstError ?? 'invalid'}`), { code: 'LOOKOUT_DNS_MALFORMED' });
    }
    if (this.mismatched > 0) {
      return Object.assign(new Error(`${within}; ${this.mismatched} response(s) to another query (wrong id or question)`), { code: 'LOOKOUT_DNS_MISMATCH' });
    }
    return null;
  }
}

/**
 * Decodes `message` when it is the response to `query` (same id and question); anything else
 * is counted in `rejected` and gives null.
 */
function matchResponse(message: Buffer, query: dnsPacket.Packet, rejected: Rejected): DnsMessage | null {
  let response: DnsMessage;
  try {
    response = dnsPacket.decode(message) as DnsMessage;
  } catch (err) {
    rejected.malformed++;
    rejected.firstError ??= err instanceof Error ? err.message : String(err);
    return null;
  }
  const asked = query.questions?.[0];
  const got = response.questions?.[0];
  if (response.type !== 'response' || response.id !== query.id || !asked || !got || !sameName(asked.name, got.name) || asked.type !== got.type) {
    rejected.mismatched++;
    return null;
  }
  return response;
}

/**
 * One query over UDP on a connected socket (so ICMP errors surface as socket errors, e.g.
 * ECONNREFUSED for a port with no listener). Datagrams that are not the response to this query
 * (another id, another question, garbage) are ignored. Rejects with the socket error, or with
 * the deadline's reason once it fires. The socket is always closed.
 */
function queryUdp(ip: string, port: number, query: dnsPacket.Packet, deadline: Deadline, rejected: Rejected, local?: string): Promise<DnsMessage> {
  return new Promise((resolve, reject) => {
    if (deadline.fired) {
      reject(deadline.reason);
      return;
    }
    const socket = createSocket(isIP(ip) === 6 ? 'udp6' : 'udp4');
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      unsubscribe();
      socket.removeAllListeners('message');
      socket.on('error', () => undefined); // late errors after the outcome have no one to tell
      socket.close();
      settle();
    };
    const unsubscribe = deadline.onFire(() => finish(() => reject(deadline.reason)));
    socket.once('error', (err) => finish(() => reject(sourceBindError(err, local, undefined))));
    socket.on('message', (message) => {
      const response = matchResponse(message, query, rejected);
      if (response) finish(() => resolve(response));
    });
    // Without a connect callback a failed connect is an 'error' event (with one, Node hands
    // the error to the callback instead).
    socket.once('connect', () => {
      if (done) return;
      socket.send(dnsPacket.encode(query), (err) => {
        if (err) finish(() => reject(err));
      });
    });
    // A source binding: bind first (connect would bind to any address itself).
    if (local === undefined) socket.connect(port, ip);
    else socket.bind({ address: local, port: 0 }, () => (done ? undefined : socket.connect(port, ip)));
  });
}

/** The stream ended before the response arrived: as much an answer as a reset. */
function closedEarly(): Error {
  return Object.assign(new Error('server closed the TCP connection before answering'), { code: 'ECONNRESET' });
}

/**
 * One query over TCP (2-byte length prefix, dns-packet streamEncode). Messages that are not the
 * response to this query are skipped. Rejects with the socket error (a close before the
 * response counts as ECONNRESET), or with the deadline's reason once it fires. The socket is
 * always destroyed.
 */
function queryTcp(ip: string, port: number, query: dnsPacket.Packet, deadline: Deadline, rejected: Rejected, local?: string): Promise<DnsMessage> {
  return new Promise((resolve, reject) => {
    if (deadline.fired) {
      reject(deadline.reason);
      return;
    }
    const socket = connect(local === undefined ? { host: ip, port } : { host: ip, port, localAddress: local });
    let buffered = Buffer.alloc(0);
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      unsubscribe();
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      socket.on('error', () => undefined);
      socket.destroy();
      settle();
    };
    const unsubscribe = deadline.onFire(() => finish(() => reject(deadline.reason)));
    socket.once('error', (err) => finish(() => reject(sourceBindError(err, local, undefined))));
    socket.once('close', () => finish(() => reject(closedEarly())));
    // write, not end: some servers drop a half-closed connection without answering.
    socket.once('connect', () => socket.write(dnsPacket.streamEncode(query)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        const response = matchResponse(buffered.subarray(2, 2 + length), query, rejected);
        buffered = buffered.subarray(2 + length);
        if (response) {
          finish(() => resolve(response));
          return;
        }
      }
    });
  });
}

function seconds(fromMs: number): number {
  return (performance.now() - fromMs) / 1000;
}

/**
 * Probes a dns target. Phases: `dns` (query until the response, UDP and any TCP retry) when a
 * response arrived, and `total`. `ip` is the server address queried. One deadline
 * (ctx.timeoutMs) covers everything; ctx.signal ends the probe at once (as dns_timeout).
 * Messages that are not the answer (undecodable, another id or question) are skipped and the
 * probe keeps waiting for the real one; if it never comes, the probe fails as dns_malformed
 * (something undecodable came) or dns_mismatch (only answers to another query came) when the
 * deadline fires or a TCP connection closes, and as dns_timeout when nothing came at all.
 * Socket and ICMP errors go through classifyError. A forged answer with the right id and
 * question cannot be told from the real one by one query: it is judged like any answer (a
 * bogon is dns_bogon_answer, an address outside answers_in dns_unexpected_answer).
 */
export const probeDns: Prober<DnsResolved> = async (target, ctx) => {
  const at = Date.now();
  const start = performance.now();
  const hp = splitHostPort(target.server);
  if (!hp) throw new TypeError(`dns target ${target.id}: invalid server "${target.server}"`);

  const result = (fields: Pick<ProbeResult, 'ok' | 'reason' | 'ip'> & Partial<ProbeResult>): ProbeResult =>
    probeResult({ target: target.id, kind: 'dns', at }, fields, Object.assign({}, fields.phases, { total: seconds(start) }));

  const deadline = new Deadline(ctx.timeoutMs, ctx.signal);
  let ip: string | null = isIP(hp.host) ? hp.host : null;
  try {
    if (ip === null) {
      // A server given by name: find its address within the same deadline.
      try {
        ip = (await ctx.resolver.resolve(hp.host, deadline.signal))[0] ?? null;
      } catch (err) {
        return result({ ok: false, reason: classifyError(err, 'dns'), ip: null, detail: `server name: ${describeError(err)}` });
      }
      if (ip === null) return result({ ok: false, reason: 'dns_no_answer', ip: null, detail: 'server name has no address' });
    }

    const query: dnsPacket.Packet = {
      type: 'query',
      id: randomInt(0, 65536),
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: target.query.type, name: target.query.name, class: 'IN' }],
    };
    let local: string | undefined;
    try {
      local = localAddressFor(ctx.source, ip);
    } catch (err) {
      return result({ ok: false, reason: classifyError(err, 'dns'), ip, detail: describeError(err) });
    }
    const queryStart = performance.now();
    let response: DnsMessage;
    const rejected = new Rejected();
    try {
      response = await queryUdp(ip, hp.port, query, deadline, rejected, local);
      if (response.flag_tc) response = await queryTcp(ip, hp.port, query, deadline, rejected, local);
    } catch (err) {
      // What was received instead of the answer says more than the timeout or the close.
      const instead = ctx.signal.aborted ? null : rejected.failure(ctx.timeoutMs);
      if (instead) return result({ ok: false, reason: classifyError(instead, 'dns'), ip, detail: instead.message });
      if (deadline.fired) {
        const detail = ctx.signal.aborted ? 'probe aborted' : `no response within ${ctx.timeoutMs} ms`;
        return result({ ok: false, reason: 'dns_timeout', ip, detail });
      }
      return result({ ok: false, reason: classifyError(err, 'dns'), ip, detail: describeError(err) });
    }
    const phases = { dns: seconds(queryStart) };
    const verdict = judgeResponse(response, target);
    return verdict.reason === null
      ? result({ ok: true, reason: null, ip, phases })
      : result({ ok: false, reason: verdict.reason, ip, phases, detail: verdict.detail });
  } finally {
    deadline.dispose();
  }
};
