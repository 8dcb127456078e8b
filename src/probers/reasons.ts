/**
 * Stable failure reason codes (docs/design.md "Failure reasons"). Metric labels, events and the API
 * use these codes, never error messages. Add codes; never rename one.
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
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Probe phases in seconds (docs/design.md "Probe phases"). */
export const PHASES = ['dns', 'connect', 'tls', 'ttfb', 'total'] as const;
export type Phase = (typeof PHASES)[number];
