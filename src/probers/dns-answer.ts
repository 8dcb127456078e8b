/**
 * What the dns, dot and doh probers share once a message has arrived, whatever carried it: the
 * query they send, matching a message to that query (skipping what is not its answer) and the
 * verdict on the answer against the target's expectations.
 */
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import type { DnsResolved } from '../config/schema.js';
import { cidrMatcher, isBogon } from './bogon.js';
import type { FailureReason } from './reasons.js';

/** The question and expectations every DNS-carrying target has (dns, dot, doh). */
export type DnsQuestionTarget = Pick<DnsResolved, 'query' | 'expect'>;

/** A recursive query for `query` with a random id (so a response to another query is told apart). */
export function newQuery(query: DnsQuestionTarget['query']): dnsPacket.Packet {
  return {
    type: 'query',
    id: randomInt(0, 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: query.type, name: query.name, class: 'IN' }],
  };
}

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
export function judgeResponse(response: DnsMessage, target: DnsQuestionTarget): DnsVerdict {
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
  const allowed = target.expect.answers_in ? answersIn(target.expect.answers_in) : () => false;
  if (addresses.some((ip) => isBogon(ip) && !allowed(ip))) return { reason: 'dns_bogon_answer', detail };
  if (target.expect.answers_in && !addresses.every(allowed)) return { reason: 'dns_unexpected_answer', detail };
  return { reason: null };
}

/** The result fields of a judged answer: ok, or failed with the verdict's reason and detail. */
export function answerResult(response: DnsMessage, target: DnsQuestionTarget): { ok: boolean; reason: FailureReason | null; detail?: string } {
  const verdict = judgeResponse(response, target);
  return verdict.reason === null ? { ok: true, reason: null } : { ok: false, reason: verdict.reason, ...(verdict.detail !== undefined ? { detail: verdict.detail } : {}) };
}

/** Each target's answers_in as a matcher, built once (a BlockList per probe is measurable). */
const matchers = new WeakMap<readonly string[], (ip: string) => boolean>();

function answersIn(cidrs: readonly string[]): (ip: string) => boolean {
  let matcher = matchers.get(cidrs);
  if (!matcher) {
    matcher = cidrMatcher(cidrs);
    matchers.set(cidrs, matcher);
  }
  return matcher;
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
export function matchResponse(message: Buffer, query: dnsPacket.Packet, rejected: Rejected): DnsMessage | null {
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
