/**
 * The dns prober: one query to the target's server over UDP (TCP when the answer is truncated),
 * judged against the target's expectations. Answers are only inspected, never dialled.
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { splitHostPort, type DnsResolved } from '../config/schema.js';
import { Deadline } from './deadline.js';
import { destroyQuietly, dialTcp } from './dial.js';
import { answerResult, matchResponse, newQuery, Rejected, type DnsMessage } from './dns-answer.js';
import { closedBeforeAnswer, exchangeFramed } from './dns-stream.js';
import { classifyError, describeError } from './failure.js';
import { ProbeClock } from './probe-clock.js';
import { localAddressFor, sourceBindError } from './source.js';
import type { ProbeResult, Prober } from './types.js';

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
 * One query over TCP (exchangeFramed on a fresh connection). Rejects with the socket error (a
 * close before the response counts as ECONNRESET), or with the deadline's reason once it
 * fires. The socket is always destroyed.
 */
async function queryTcp(ip: string, port: number, query: dnsPacket.Packet, deadline: Deadline, rejected: Rejected, local?: string): Promise<DnsMessage> {
  const socket = await dialTcp(ip, port, deadline, local);
  try {
    return await exchangeFramed(socket, query, deadline, rejected);
  } catch (err) {
    throw closedBeforeAnswer(err) ? closedEarly() : err;
  } finally {
    destroyQuietly(socket);
  }
}

/** The query over UDP, then over TCP when the UDP answer is truncated. */
async function queryServer(ip: string, port: number, query: dnsPacket.Packet, deadline: Deadline, rejected: Rejected, local?: string): Promise<DnsMessage> {
  const response = await queryUdp(ip, port, query, deadline, rejected, local);
  return response.flag_tc ? queryTcp(ip, port, query, deadline, rejected, local) : response;
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
  const clock = new ProbeClock();
  const hp = splitHostPort(target.server);
  if (!hp) throw new TypeError(`dns target ${target.id}: invalid server "${target.server}"`);
  const result = (fields: Pick<ProbeResult, 'ok' | 'reason' | 'ip'> & Partial<ProbeResult>): ProbeResult => clock.result(target.id, 'dns', fields);

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
    const server = ip;

    const query = newQuery(target.query);
    let local: string | undefined;
    try {
      local = localAddressFor(ctx.source, server);
    } catch (err) {
      return result({ ok: false, reason: classifyError(err, 'dns'), ip, detail: describeError(err) });
    }
    let response: DnsMessage;
    const rejected = new Rejected();
    try {
      response = await clock.run('dns', 'dns', () => queryServer(server, hp.port, query, deadline, rejected, local));
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
    return result({ ip, ...answerResult(response, target) });
  } finally {
    deadline.dispose();
  }
};
