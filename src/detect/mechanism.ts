/**
 * Names how a disruption was done from the failure reasons of the down targets (docs/design.md "Two
 * perspectives": dns, tcp_reset, tls, http, blackhole).
 */
import type { FailureReason } from '../probers/reasons.js';
import { MECHANISMS, type Mechanism } from './events.js';

/**
 * The mechanism a single failure reason points to; null for `unknown`.
 * `http_reset` (a reset after the HTTP request was sent) is counted as `tcp_reset`: the blocking
 * was done by injecting a reset, the HTTP layer only triggered it. `dns_timeout` is `blackhole`:
 * a query nobody answers is a drop, like any other timeout, not DNS tampering (which answers).
 * `icmp_unreachable` is an active rejection like a refused connection (`tcp_reset`) unless its
 * code says a router has no way there: see mechanismOfFailure. `icmp_timeout`, an echo nobody
 * answers, is a `blackhole` like tcp_timeout.
 */
export function mechanismOf(reason: FailureReason): Mechanism | null {
  switch (reason) {
    case 'dns_nxdomain':
    case 'dns_servfail':
    case 'dns_refused':
    case 'dns_no_answer':
    case 'dns_bogon_answer':
    case 'dns_unexpected_answer':
    case 'dns_malformed':
    case 'dns_mismatch':
      return 'dns';
    case 'tcp_reset':
    case 'tcp_refused':
    case 'http_reset':
    case 'icmp_unreachable':
      return 'tcp_reset';
    case 'tls_reset':
    case 'tls_alert':
    case 'tls_eof':
    case 'tls_cert_invalid':
    case 'tls_protocol_error':
      return 'tls';
    case 'http_blockpage':
    case 'http_status':
    case 'http_body_mismatch':
    case 'http_protocol_error':
      return 'http';
    case 'dns_timeout':
    case 'tcp_timeout':
    case 'tls_timeout':
    case 'http_timeout':
    case 'timeout':
    case 'icmp_timeout':
    case 'network_unreachable':
      return 'blackhole';
    // A bug, a source binding this host cannot use, or this host's resolver failing: none says
    // how anything was disrupted (a vantage whose resolver is gone sees no foreign blackhole).
    case 'unknown':
    case 'source_unavailable':
    case 'dns_resolver_unreachable':
    case 'dns_temporary_failure':
      return null;
  }
}

/**
 * The mechanism of one failure, its detail considered where the reason alone does not decide:
 * an `icmp_unreachable` whose code is `net` or `host` (detail "net: ..." / "host: ...", as the
 * icmp prober writes it) is a router without a route, what a withdrawn network looks like, so
 * `blackhole` (as a TCP connect that drew the same ICMP is network_unreachable); any other code
 * (admin-prohibited, port, protocol: a filter answering) is a rejection, `tcp_reset`.
 */
export function mechanismOfFailure(reason: FailureReason, detail: string | undefined): Mechanism | null {
  if (reason === 'icmp_unreachable' && detail !== undefined && /^(net|host):/.test(detail)) return 'blackhole';
  return mechanismOf(reason);
}

/**
 * The dominant mechanism among the given per-target mechanisms: each votes for itself (null does
 * not vote), the most votes wins, ties go to the earlier entry of MECHANISMS (deterministic);
 * null when nothing voted.
 */
export function dominantOf(mechanisms: Iterable<Mechanism | null>): Mechanism | null {
  const votes = new Map<Mechanism, number>();
  for (const m of mechanisms) if (m !== null) votes.set(m, (votes.get(m) ?? 0) + 1);
  let best: Mechanism | null = null;
  let bestVotes = 0;
  for (const m of MECHANISMS) {
    const v = votes.get(m) ?? 0;
    if (v > bestVotes) {
      best = m;
      bestVotes = v;
    }
  }
  return best;
}
