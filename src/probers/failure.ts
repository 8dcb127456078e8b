/**
 * The one failure classifier: every low-level error a prober sees becomes a stable reason code
 * here, and nowhere else. Knowing the phase the error happened in is what separates a
 * tcp_reset from a tls_reset or an http_reset.
 */
import type { FailureReason } from './reasons.js';

/** Where in a probe the error happened. */
export type FailurePhase = 'dns' | 'connect' | 'tls' | 'http';

const TIMEOUT_BY_PHASE: Record<FailurePhase, FailureReason> = {
  dns: 'dns_timeout',
  connect: 'tcp_timeout',
  tls: 'tls_timeout',
  http: 'http_timeout',
};

const RESET_BY_PHASE: Record<FailurePhase, FailureReason> = {
  dns: 'dns_timeout',
  connect: 'tcp_reset',
  tls: 'tls_reset',
  http: 'http_reset',
};

// EPERM: this host's packet filter refused to send (a UDP send under an iptables OUTPUT DROP
// fails at once; TCP retries its SYN instead and times out): the packet cannot leave, as with no route.
const UNREACHABLE_CODES = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'EPERM']);

const DNS_CODES: Record<string, FailureReason> = {
  ENOTFOUND: 'dns_nxdomain',
  ESERVFAIL: 'dns_servfail',
  EREFUSED: 'dns_refused',
  ETIMEOUT: 'dns_timeout',
  ENODATA: 'dns_no_answer',
  // resolveHost: the name resolved only to 0.0.0.0 or ::, which is never dialled.
  LOOKOUT_DNS_BOGON: 'dns_bogon_answer',
  // getaddrinfo's "temporary failure in name resolution": the system resolver got no usable
  // answer from any of its servers (none reachable, each timed out or answered SERVFAIL); it
  // does not say which, and it is this host's resolver failing, not the target.
  EAI_AGAIN: 'dns_temporary_failure',
  // The configured resolvers (resolver.servers) could not be contacted (src/probers/resolver.ts).
  LOOKOUT_RESOLVER_UNREACHABLE: 'dns_resolver_unreachable',
  // A UDP query to a port with nothing listening draws an ICMP port unreachable, which a
  // connected socket reports as ECONNREFUSED: the server (or something on the path) refused.
  ECONNREFUSED: 'dns_refused',
  // There is no dns_reset code: a DNS-over-TCP stream reset or closed before the answer is
  // an answer that never came (as RESET_BY_PHASE has it).
  ECONNRESET: 'dns_timeout',
  EPIPE: 'dns_timeout',
  // c-ares (the configured-servers resolver): a reply it could not parse (a compression loop, a
  // packet cut short); a server that answered FORMERR or NOTIMP is a server failure, as the dns
  // prober counts any rcode it has no name for; a query cancelled is one that never got answered.
  EBADRESP: 'dns_malformed',
  EFORMERR: 'dns_servfail',
  ENOTIMP: 'dns_servfail',
  ECANCELLED: 'dns_timeout',
  // The dns prober: only undecodable messages, or only answers to another query, before the deadline.
  LOOKOUT_DNS_MALFORMED: 'dns_malformed',
  LOOKOUT_DNS_MISMATCH: 'dns_mismatch',
};

/**
 * undici's errors for a response that is not HTTP/1.1: a head past the header size limit
 * (endless or huge headers), a body shorter or longer than its Content-Length, bad chunking
 * (those come as HTTPParserError, see classifyOne).
 */
const HTTP_PROTOCOL_CODES = new Set(['UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UND_ERR_INFO']);

/**
 * HTTP/2 (the doh prober negotiates it): the peer ended the stream (RST_STREAM) or the session
 * (GOAWAY) with an error before a response, as a reset ends an HTTP/1.1 exchange. Any other
 * ERR_HTTP2_* error (ERR_HTTP2_ERROR: nghttp2 could not parse the frames) is a protocol error.
 */
const HTTP2_ENDED_CODES = new Set(['ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_STREAM_CANCEL']);

/**
 * An OpenSSL error naming an alert the peer sent: ERR_SSL_SSLV3_ALERT_*, ERR_SSL_TLSV1_ALERT_*,
 * ERR_SSL_TLSV13_ALERT_* (OpenSSL 3.0, Node 20), ERR_SSL_SSL/TLS_ALERT_* (OpenSSL 3.5, Node 24).
 */
const RECEIVED_ALERT = /^ERR_SSL_(SSLV3|TLSV1\d*|SSL\/TLS)_ALERT_/;

/** OpenSSL / Node certificate verification failures. */
const CERT_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

function asErrorLike(err: unknown): ErrorLike | null {
  return typeof err === 'object' && err !== null ? err : null;
}

/** The error and its causes, outermost first (undici wraps socket errors in `cause`). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let cur = asErrorLike(err);
  while (cur && out.length < 5) {
    out.push(cur);
    cur = asErrorLike(cur.cause);
  }
  return out;
}

function classifyOne(e: ErrorLike, phase: FailurePhase): FailureReason | null {
  const code = typeof e.code === 'string' ? e.code : '';
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';

  // A source binding that cannot be used: local, whatever the phase (src/probers/source.ts).
  if (code === 'LOOKOUT_SOURCE_UNAVAILABLE') return 'source_unavailable';
  if (name === 'AbortError' || name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'ABORT_ERR') {
    return TIMEOUT_BY_PHASE[phase];
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'tcp_timeout';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'http_timeout';
  if (UNREACHABLE_CODES.has(code)) return 'network_unreachable';
  if (phase === 'dns') return DNS_CODES[code] ?? null;
  if (CERT_CODES.has(code)) return 'tls_cert_invalid';
  // A parser that gave up on the response: garbage, HTTP/0.9, bad chunking (undici sets `code`
  // to HPE_* only for some of them, the name always).
  if (name === 'HTTPParserError' || code.startsWith('HPE_') || HTTP_PROTOCOL_CODES.has(code)) return 'http_protocol_error';
  if (HTTP2_ENDED_CODES.has(code)) return 'http_reset';
  if (code.startsWith('ERR_HTTP2_')) return 'http_protocol_error';
  // OpenSSL names a received alert in the code; any other OpenSSL error during the handshake is
  // bytes that are not the TLS the client expects (garbage, a wrong version, an oversized
  // certificate chain, a storm of warning alerts: ERR_SSL_TOO_MANY_WARN_ALERTS).
  if (RECEIVED_ALERT.test(code)) return 'tls_alert';
  if (code.startsWith('ERR_SSL_')) return 'tls_protocol_error';
  if (/alert/i.test(message)) return 'tls_alert';
  // Node reports a clean close during the handshake as ECONNRESET without a syscall.
  if (phase === 'tls' && /disconnected before secure TLS connection/.test(message)) return 'tls_eof';
  if (code === 'ECONNRESET' || code === 'EPIPE') return RESET_BY_PHASE[phase];
  if (code === 'ECONNREFUSED') return phase === 'connect' ? 'tcp_refused' : RESET_BY_PHASE[phase];
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return phase === 'tls' ? 'tls_eof' : 'http_reset';
  return null;
}

/**
 * Maps an error thrown or emitted during `phase` to a reason code. The cause chain is
 * searched outermost first; an error nothing recognises is `unknown` (log its detail).
 */
export function classifyError(err: unknown, phase: FailurePhase): FailureReason {
  for (const e of chain(err)) {
    const reason = classifyOne(e, phase);
    if (reason) return reason;
  }
  return 'unknown';
}

/** A short, label-free description of an error for log fields. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : JSON.stringify(e);
    parts.push(code ? `${code}: ${message}` : message);
  }
  return parts.join(' <- ') || String(err);
}
