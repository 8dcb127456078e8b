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
 * `icmp_unreachable` (an ICMP destination unreachable, admin-prohibited or another code) is an
 * active rejection like a refused connection, so it is counted as `tcp_reset`; `icmp_timeout`,
 * an echo nobody answers, is a `blackhole` like tcp_timeout.
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
    case 'unknown':
      return null;
  }
}

/**
 * The dominant mechanism among the given latest failure reasons: each reason votes for its
 * mechanism, the most votes wins, ties go to the earlier entry of MECHANISMS (deterministic).
 * `unknown` reasons do not vote; null when nothing voted.
 */
export function dominantMechanism(reasons: Iterable<FailureReason | null>): Mechanism | null {
  const votes = new Map<Mechanism, number>();
  for (const reason of reasons) {
    const m = mechanismOf(reason ?? 'unknown');
    if (m !== null) votes.set(m, (votes.get(m) ?? 0) + 1);
  }
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
