import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrMatcher, isBogon, toCanonical } from '../../../src/probers/bogon.js';

const BOGONS = [
  '0.0.0.0',
  '0.255.255.255',
  '10.0.0.1',
  '10.255.255.255',
  '100.64.0.1',
  '100.127.255.255',
  '127.0.0.1',
  '127.1.2.3',
  '169.254.169.254',
  '172.16.0.1',
  '172.31.255.255',
  '192.0.0.8',
  '192.168.1.1',
  '198.18.0.1',
  '198.19.255.255',
  '224.0.0.251',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  '::',
  '::1',
  'fc00::1',
  'fd12:3456::1',
  'fe80::1',
  'febf:ffff::1',
  'ff02::1',
  '::ffff:10.0.0.1',
  '::ffff:127.0.0.1',
  '::FFFF:0.0.0.0',
  '::ffff:a00:1',
  '0:0:0:0:0:ffff:c0a8:101',
];

const NOT_BOGONS = [
  '1.1.1.1',
  '8.8.8.8',
  '100.63.255.255',
  '100.128.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.1',
  '192.169.0.1',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
  '2a00:1450::1',
  'fec0::1',
  '::2',
  '::ffff:8.8.8.8',
  // Documentation ranges: plausible-but-wrong answer data in tests, deliberately not bogons.
  '192.0.2.1',
  '198.51.100.7',
  '203.0.113.9',
  '2001:db8::1',
];

describe('isBogon', () => {
  it.each(BOGONS)('%s is a bogon', (ip) => {
    expect(isBogon(ip)).toBe(true);
  });

  it.each(NOT_BOGONS)('%s is not a bogon', (ip) => {
    expect(isBogon(ip)).toBe(false);
  });

  it('rejects strings that are not IP addresses', () => {
    expect(() => isBogon('example.com')).toThrow(TypeError);
    expect(() => isBogon('10.0.0.1/8')).toThrow(TypeError);
    expect(() => isBogon('')).toThrow(TypeError);
  });

  it('holds every address of 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16 a bogon', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, octet, octet, fc.integer({ min: 16, max: 31 }), (b, c, d, second) => {
        expect(isBogon(`10.${b}.${c}.${d}`)).toBe(true);
        expect(isBogon(`172.${second}.${c}.${d}`)).toBe(true);
        expect(isBogon(`192.168.${c}.${d}`)).toBe(true);
      }),
    );
  });

  it('never calls a documentation-range address a bogon', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, fc.integer({ min: 0, max: 0xffff }), (d, group) => {
        expect(isBogon(`192.0.2.${d}`)).toBe(false);
        expect(isBogon(`198.51.100.${d}`)).toBe(false);
        expect(isBogon(`203.0.113.${d}`)).toBe(false);
        expect(isBogon(`2001:db8::${group.toString(16)}`)).toBe(false);
      }),
    );
  });

  it('judges every IPv4-mapped IPv6 form like the IPv4 address itself', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const hex = toHexMapped(ip);
        expect(isBogon(`::ffff:${ip}`)).toBe(isBogon(ip));
        expect(isBogon(hex)).toBe(isBogon(ip));
        expect(toCanonical(hex)).toEqual({ address: ip, family: 'ipv4' });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cidrMatcher', () => {
  it('matches addresses inside the ranges and nothing else', () => {
    const inRange = cidrMatcher(['203.0.113.0/24', '2001:db8:1::/48']);
    expect(inRange('203.0.113.0')).toBe(true);
    expect(inRange('203.0.113.255')).toBe(true);
    expect(inRange('203.0.114.0')).toBe(false);
    expect(inRange('198.51.100.7')).toBe(false);
    expect(inRange('2001:db8:1:ffff::1')).toBe(true);
    expect(inRange('2001:db8:2::1')).toBe(false);
    expect(inRange('::ffff:203.0.113.7')).toBe(true);
  });

  it('matches nothing when empty', () => {
    const none = cidrMatcher([]);
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => !none(ip)));
  });

  it('agrees with a /24 for any address', () => {
    const match = cidrMatcher(['198.51.100.0/24']);
    fc.assert(fc.property(fc.ipV4(), (ip) => match(ip) === ip.startsWith('198.51.100.')));
  });

  it('rejects malformed CIDRs', () => {
    expect(() => cidrMatcher(['10.0.0.0'])).toThrow(TypeError);
    expect(() => cidrMatcher(['10.0.0.0/33'])).toThrow(TypeError);
    expect(() => cidrMatcher(['example.com/8'])).toThrow(TypeError);
    expect(() => cidrMatcher(['::/129'])).toThrow(TypeError);
  });
});

/** "::ffff:XXXX:XXXX", the hex spelling of an IPv4-mapped address. */
function toHexMapped(ip: string): string {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return `::ffff:${(a * 256 + b).toString(16)}:${(c * 256 + d).toString(16)}`;
}
