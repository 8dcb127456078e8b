import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BOGON_CIDRS, cidrMatcher, isBogon, toCanonical } from '../../../src/probers/bogon.js';

// Tests hold no address literals outside loopback and the documentation ranges: the bogon and
// non-bogon samples are derived from BOGON_CIDRS itself (never dialled; isBogon is pure).

const v4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const v4int = (ip: string): number => ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);

/** The IPv4 bogon ranges as [first, last] integers. */
const V4_RANGES = BOGON_CIDRS.filter((c) => !c.includes(':')).map((cidr) => {
  const [addr, len] = cidr.split('/') as [string, string];
  const first = v4int(addr);
  return { cidr, first, last: first + 2 ** (32 - Number(len)) - 1 };
});
const inAnyRange = (n: number): boolean => V4_RANGES.some((r) => n >= r.first && n <= r.last);

const BOGONS = [
  ...V4_RANGES.flatMap((r) => [r.first, r.first + 1, Math.floor((r.first + r.last) / 2), r.last].map(v4)),
  // IPv6 ranges: the prefix itself for the single addresses, prefix + 1 for the others.
  ...BOGON_CIDRS.filter((c) => c.includes(':')).map((c) => (c.endsWith('/128') ? c.slice(0, -4) : `${c.split('/')[0]}1`)),
  // IPv4-mapped spellings of IPv4 bogons.
  ...V4_RANGES.map((r) => `::ffff:${v4(r.first + 1)}`),
  ...V4_RANGES.map((r) => `::FFFF:${v4(r.last)}`),
];

/** The addresses just outside each IPv4 range that no other range covers. */
const NEIGHBOURS = V4_RANGES.flatMap((r) => [r.first - 1, r.last + 1])
  .filter((n) => n >= 0 && n < 2 ** 32 && !inAnyRange(n))
  .map(v4);

const NOT_BOGONS = [
  ...NEIGHBOURS,
  ...NEIGHBOURS.map((ip) => `::ffff:${ip}`),
  '::2',
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
    expect(() => isBogon('127.0.0.1/8')).toThrow(TypeError);
    expect(() => isBogon('')).toThrow(TypeError);
  });

  it('holds every address of every IPv4 bogon range a bogon', () => {
    for (const r of V4_RANGES) {
      fc.assert(fc.property(fc.integer({ min: r.first, max: r.last }), (n) => isBogon(v4(n))), { numRuns: 200 });
    }
  });

  it('derives enough samples to mean something', () => {
    expect(V4_RANGES.length).toBeGreaterThanOrEqual(10);
    expect(NEIGHBOURS.length).toBeGreaterThanOrEqual(10);
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
    expect(inRange('192.0.2.0')).toBe(false);
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
    expect(() => cidrMatcher(['203.0.113.0'])).toThrow(TypeError);
    expect(() => cidrMatcher(['203.0.113.0/33'])).toThrow(TypeError);
    expect(() => cidrMatcher(['example.com/8'])).toThrow(TypeError);
    expect(() => cidrMatcher(['::/129'])).toThrow(TypeError);
  });
});

/** "::ffff:XXXX:XXXX", the hex spelling of an IPv4-mapped address. */
function toHexMapped(ip: string): string {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return `::ffff:${(a * 256 + b).toString(16)}:${(c * 256 + d).toString(16)}`;
}
