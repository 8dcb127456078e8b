import { describe, expect, it } from 'vitest';
import { parseFpingLine, unreachableCode } from '../../../src/probers/icmp-fping.js';
import { mechanismOf, mechanismOfFailure } from '../../../src/detect/mechanism.js';

// Lines as fping 5.1 prints them in count mode (-c1), captured on loopback.
describe('parseFpingLine', () => {
  it('reads a reply with its rtt, IPv4 and IPv6 (padded host column)', () => {
    expect(parseFpingLine('127.0.0.1 : [0], 64 bytes, 0.051 ms (0.051 avg, 0% loss)')).toEqual({ host: '127.0.0.1', outcome: { kind: 'reply', rttMs: 0.051 } });
    expect(parseFpingLine('::1       : [0], 64 bytes, 12.5 ms (12.5 avg, 0% loss)')).toEqual({ host: '::1', outcome: { kind: 'reply', rttMs: 12.5 } });
  });

  it('reads a timeout', () => {
    expect(parseFpingLine('127.0.0.3 : [0], timed out (NaN avg, 100% loss)')).toEqual({ host: '127.0.0.3', outcome: { kind: 'timeout' } });
  });

  it('reads ICMP unreachables with the code as a label, keyed by the address the echo went to', () => {
    const cases: [string, string][] = [
      ['ICMP Unreachable (Communication Administratively Prohibited) from 127.0.0.9 for ICMP Echo sent to 127.0.0.4', 'admin-prohibited'],
      ['ICMP Host Unreachable from 127.0.0.5 for ICMP Echo sent to 127.0.0.5', 'host'],
      ['ICMP Network Unreachable from 127.0.0.6 for ICMP Echo sent to 127.0.0.6', 'net'],
      ['ICMP Port Unreachable from 127.0.0.7 for ICMP Echo sent to 127.0.0.7', 'port'],
      ['ICMP Protocol Unreachable from 127.0.0.7 for ICMP Echo sent to 127.0.0.7', 'protocol'],
      ['ICMP Unreachable (Communication with Host Prohibited) from 127.0.0.7 for ICMP Echo sent to 127.0.0.7', 'admin-prohibited'],
      ['ICMP Unreachable (Fragmentation Needed) from 127.0.0.7 for ICMP Echo sent to 127.0.0.7', 'other'],
    ];
    for (const [line, code] of cases) {
      const parsed = parseFpingLine(line);
      expect(parsed?.outcome).toMatchObject({ kind: 'unreachable', code });
      expect(parsed?.host).toBe(line.slice(line.lastIndexOf(' ') + 1));
    }
    expect(parseFpingLine('ICMP Unreachable (Communication Administratively Prohibited) from 127.0.0.9 for ICMP Echo sent to 127.0.0.4')?.outcome).toMatchObject({ from: '127.0.0.9' });
  });

  it('ignores summaries, blank lines and ICMP messages that are not unreachables', () => {
    expect(parseFpingLine('127.0.0.1 : xmt/rcv/%loss = 1/1/0%, min/avg/max = 0.051/0.051/0.051')).toBeNull();
    expect(parseFpingLine('')).toBeNull();
    expect(parseFpingLine('ICMP Time Exceeded from 127.0.0.9 for ICMP Echo sent to 127.0.0.8')).toBeNull();
  });

  it('unreachableCode falls back to other', () => {
    expect(unreachableCode('ICMP Unreachable (Source Route Failed)')).toBe('other');
  });
});

describe('icmp reasons in the detector', () => {
  it('an unanswered echo is a blackhole, an ICMP unreachable an active rejection', () => {
    expect(mechanismOf('icmp_timeout')).toBe('blackhole');
    expect(mechanismOf('icmp_unreachable')).toBe('tcp_reset');
  });
});

describe('the mechanism of an icmp_unreachable follows its code', () => {
  it('net and host (a router without a route) are blackhole; a filter answering is a rejection', () => {
    expect(mechanismOfFailure('icmp_unreachable', 'net: ICMP Network Unreachable from 127.0.0.6')).toBe('blackhole');
    expect(mechanismOfFailure('icmp_unreachable', 'host: ICMP Host Unreachable from 127.0.0.5')).toBe('blackhole');
    expect(mechanismOfFailure('icmp_unreachable', 'admin-prohibited: ICMP Unreachable (Communication Administratively Prohibited) from 127.0.0.4')).toBe('tcp_reset');
    expect(mechanismOfFailure('icmp_unreachable', 'port: ICMP Port Unreachable from 127.0.0.7')).toBe('tcp_reset');
    expect(mechanismOfFailure('icmp_timeout', 'host: whatever')).toBe('blackhole');
    expect(mechanismOfFailure('tcp_refused', undefined)).toBe('tcp_reset');
  });
});
