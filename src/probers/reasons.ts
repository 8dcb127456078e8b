import type { TargetKind } from '../config/schema.js';

/**
 * Stable failure reason codes (docs/design.md "Failure reasons"; each code's meaning and the
 * phase that produces it: docs/reasons.md). Metric labels, events and the API use these codes,
 * never error messages. Add codes (append); never rename one. `unknown` marks a bug: an error
 * nothing recognised.
 */
export const FAILURE_REASONS = [
  'dns_nxdomain',
  'dns_servfail',
  'dns_refused',
  'dns_timeout',
  'dns_no_answer',
  'dns_bogon_answer',
  'dns_unexpected_answer',
  'tcp_timeout',
  'tcp_refused',
  'tcp_reset',
  'network_unreachable',
  'tls_timeout',
  'tls_reset',
  'tls_alert',
  'tls_cert_invalid',
  'tls_eof',
  'http_timeout',
  'http_reset',
  'http_status',
  'http_blockpage',
  'http_body_mismatch',
  'timeout',
  'unknown',
  // Issue #13: answers that are not the protocol at all (garbage, injected or mangled bytes).
  'http_protocol_error',
  'tls_protocol_error',
  'dns_malformed',
  'dns_mismatch',
  // Issue #14: the probe's source binding (address or interface) cannot be used here: a local problem.
  'source_unavailable',
  // Issue #14: icmp targets (echo not answered; an ICMP destination unreachable came back).
  'icmp_timeout',
  'icmp_unreachable',
  // Issue #27: the vantage's own resolver, not the target, failed the name lookup.
  'dns_resolver_unreachable',
  'dns_temporary_failure',
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * Failures of this host, not of the probed path: nothing reached the target, so nothing was
 * learnt about it (docs/reasons.md "Local failures"). The detector leaves a target failing
 * with one of these out of its ratios and counts a control failing with one as failing.
 */
export const LOCAL_REASONS: ReadonlySet<FailureReason> = new Set<FailureReason>(['source_unavailable', 'dns_resolver_unreachable', 'dns_temporary_failure']);

/** Any prober: a bug (a prober that threw), a source binding that cannot be used. */
const ANY = ['unknown', 'source_unavailable'] as const;
/** Looking up a name through the system or configured resolvers (resolveHost). */
/** Failures of this host's resolvers (LOCAL_REASONS). */
const RESOLVER = ['dns_resolver_unreachable', 'dns_temporary_failure'] as const;
const LOOKUP = [...RESOLVER, 'dns_nxdomain', 'dns_servfail', 'dns_refused', 'dns_timeout', 'dns_no_answer', 'dns_bogon_answer', 'dns_malformed'] as const;
const CONNECT = ['tcp_timeout', 'tcp_refused', 'tcp_reset', 'network_unreachable'] as const;
const HANDSHAKE = ['tls_timeout', 'tls_reset', 'tls_alert', 'tls_cert_invalid', 'tls_eof', 'tls_protocol_error'] as const;
/** The verdict on a DNS answer that arrived, and what came instead of it (dns-answer.ts). */
const ANSWER = ['dns_nxdomain', 'dns_servfail', 'dns_refused', 'dns_timeout', 'dns_no_answer', 'dns_bogon_answer', 'dns_unexpected_answer', 'dns_malformed', 'dns_mismatch'] as const;
const HTTP_EXCHANGE = ['http_timeout', 'http_reset', 'http_status', 'http_protocol_error'] as const;

/**
 * The codes each kind's prober can fail with (docs/reasons.md has a section per kind). Every
 * kind of the config schema has its list: tests/unit/probers/kinds.test.ts checks it, with the
 * prober in the registry and the documentation (docs/design.md "A new prober kind").
 */
export const REASONS_BY_KIND = {
  http: [...ANY, ...LOOKUP, ...CONNECT, ...HANDSHAKE, ...HTTP_EXCHANGE, 'http_blockpage', 'http_body_mismatch'],
  tcp: [...ANY, ...LOOKUP, ...CONNECT],
  tls: [...ANY, ...LOOKUP, ...CONNECT, ...HANDSHAKE],
  dns: [...ANY, ...ANSWER, 'network_unreachable'],
  dot: [...ANY, ...RESOLVER, ...ANSWER, ...CONNECT, ...HANDSHAKE],
  doh: [...ANY, ...RESOLVER, ...ANSWER, ...CONNECT, ...HANDSHAKE, ...HTTP_EXCHANGE],
  icmp: [...ANY, ...LOOKUP, 'icmp_timeout', 'icmp_unreachable', 'network_unreachable'],
} satisfies Record<TargetKind, readonly FailureReason[]>;

/** Probe phases in seconds (docs/design.md "Probe phases"). */
export const PHASES = ['dns', 'connect', 'tls', 'ttfb', 'total'] as const;
export type Phase = (typeof PHASES)[number];
