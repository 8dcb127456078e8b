import { describe, expect, it } from 'vitest';
import { dominantOf, mechanismOf } from '../../../src/detect/mechanism.js';
import { FAILURE_REASONS, LOCAL_REASONS } from '../../../src/probers/reasons.js';

describe('mechanismOf', () => {
  it('maps every reason code as docs/design.md names them', () => {
    expect(mechanismOf('dns_nxdomain')).toBe('dns');
    expect(mechanismOf('dns_bogon_answer')).toBe('dns');
    expect(mechanismOf('tcp_reset')).toBe('tcp_reset');
    expect(mechanismOf('tcp_refused')).toBe('tcp_reset');
    expect(mechanismOf('http_reset')).toBe('tcp_reset');
    expect(mechanismOf('tls_alert')).toBe('tls');
    expect(mechanismOf('tls_eof')).toBe('tls');
    expect(mechanismOf('tls_cert_invalid')).toBe('tls');
    expect(mechanismOf('http_blockpage')).toBe('http');
    expect(mechanismOf('http_body_mismatch')).toBe('http');
    expect(mechanismOf('tcp_timeout')).toBe('blackhole');
    expect(mechanismOf('tls_timeout')).toBe('blackhole');
    expect(mechanismOf('network_unreachable')).toBe('blackhole');
    expect(mechanismOf('unknown')).toBeNull();
    // A source binding this host cannot use is a local problem: it says nothing about how anything was disrupted.
    expect(mechanismOf('source_unavailable')).toBeNull();
    // So is this host's resolver failing: a vantage whose resolver is gone sees no foreign blackhole.
    expect(mechanismOf('dns_resolver_unreachable')).toBeNull();
    expect(mechanismOf('dns_temporary_failure')).toBeNull();
    for (const r of FAILURE_REASONS) if (r !== 'unknown' && !LOCAL_REASONS.has(r)) expect(mechanismOf(r)).not.toBeNull();
  });
});

describe('dominantOf', () => {
  it('counts votes per mechanism, breaks ties in MECHANISMS order, and lets null not vote', () => {
    expect(dominantOf(['tcp_reset', 'tcp_reset', 'dns'])).toBe('tcp_reset');
    expect(dominantOf(['tls', 'dns', null, null])).toBe('dns');
    expect(dominantOf([null])).toBeNull();
    expect(dominantOf([])).toBeNull();
  });
});
