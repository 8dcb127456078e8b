import { isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseLoopbackCidr, planAddresses, type AddressPlan } from '../../../src/sim/addressing.js';
import { FaultInjector, splitRuleSpec } from '../../../src/sim/faults.js';
import { assertPrivateNetns, inPrivateNetns } from '../../../src/sim/netns.js';

const COUNTRIES = [
  { code: 'KZ', asns: [9198, 21299, 35104, 48716] },
  { code: 'DE', asns: [3320] },
  { code: 'US', asns: [] },
  { code: 'FR', asns: [3215, 12322] },
];

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** [first, last] address of a CIDR as integers. */
function range(cidr: string): [number, number] {
  const { network, prefix } = parseLoopbackCidr(cidr);
  return [network, network + 2 ** (32 - prefix) - 1];
}

function contains(cidr: string, ip: string): boolean {
  const [lo, hi] = range(cidr);
  const n = toInt(ip);
  return n >= lo && n <= hi;
}

function overlaps(a: string, b: string): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

function allHosts(plan: AddressPlan): string[] {
  return plan.countries.flatMap((c) => c.asns.flatMap((a) => Array.from({ length: 62 }, (_, k) => plan.hostFor(c.code, a.asn, k + 1))));
}

describe('planAddresses', () => {
  it('is deterministic and follows the documented layout', () => {
    const a = planAddresses(COUNTRIES, { controls: 3 });
    const b = planAddresses(structuredClone(COUNTRIES), { controls: 3 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(allHosts(a)).toEqual(allHosts(b));
    expect(a.controls).toEqual({ cidr: '127.1.0.0/24', addresses: ['127.1.0.1', '127.1.0.2', '127.1.0.3'] });
    expect(a.countries.map((c) => c.cidr)).toEqual(['127.10.0.0/24', '127.10.1.0/24', '127.10.2.0/24', '127.10.3.0/24']);
    expect(a.countries[0]?.asns.map((x) => x.cidr)).toEqual(['127.10.0.0/26', '127.10.0.64/26', '127.10.0.128/26', '127.10.0.192/26']);
    expect(a.countryCidr('FR')).toBe('127.10.3.0/24');
    expect(a.asnCidr('FR', 12322)).toBe('127.10.3.64/26');
    expect(a.hostFor('KZ', 21299, 1)).toBe('127.10.0.65');
    expect(a.hostFor('KZ', 48716, 62)).toBe('127.10.0.254');
  });

  it('moves to the next second octet after 256 countries', () => {
    const many = Array.from({ length: 258 }, (_, i) => ({ code: `${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`, asns: [i + 1] }));
    const plan = planAddresses(many);
    expect(plan.countries[255]?.cidr).toBe('127.10.255.0/24');
    expect(plan.countries[256]?.cidr).toBe('127.11.0.0/24');
    expect(plan.hostFor(many[257]?.code ?? '', 258, 5)).toBe('127.11.1.5');
  });

  it('puts everything in 127.0.0.0/8, each host inside its ASN and country block', () => {
    const plan = planAddresses(COUNTRIES, { controls: 254 });
    for (const ip of [...plan.controls.addresses, ...allHosts(plan)]) {
      expect(isIPv4(ip)).toBe(true);
      expect(contains('127.0.0.0/8', ip)).toBe(true);
    }
    for (const ip of plan.controls.addresses) expect(contains(plan.controls.cidr, ip)).toBe(true);
    for (const c of plan.countries) {
      for (const a of c.asns) {
        expect(contains(c.cidr, a.cidr.split('/')[0] ?? '')).toBe(true);
        for (let n = 1; n <= 62; n++) expect(contains(a.cidr, plan.hostFor(c.code, a.asn, n))).toBe(true);
      }
    }
  });

  it('gives blocks that never overlap (controls, countries, ASNs)', () => {
    const plan = planAddresses(COUNTRIES);
    const countryBlocks = [plan.controls.cidr, ...plan.countries.map((c) => c.cidr)];
    for (const [i, a] of countryBlocks.entries()) for (const b of countryBlocks.slice(i + 1)) expect(overlaps(a, b), `${a} vs ${b}`).toBe(false);
    const asnBlocks = plan.countries.flatMap((c) => c.asns.map((a) => a.cidr));
    for (const [i, a] of asnBlocks.entries()) for (const b of asnBlocks.slice(i + 1)) expect(overlaps(a, b), `${a} vs ${b}`).toBe(false);
  });

  it('gives a distinct host for every (country, asn, n)', () => {
    const hosts = allHosts(planAddresses(COUNTRIES));
    expect(hosts).toHaveLength(7 * 62);
    expect(new Set(hosts).size).toBe(hosts.length);
  });

  it('refuses more than 4 ASNs in a country, naming it', () => {
    expect(() => planAddresses([{ code: 'KZ', asns: [1, 2, 3, 4, 5] }])).toThrow(/country KZ has 5 ASNs; at most 4/);
  });

  it('refuses duplicates, bad codes and out-of-range lookups', () => {
    expect(() => planAddresses([{ code: 'KZ', asns: [] }, { code: 'KZ', asns: [] }])).toThrow(/KZ appears twice/);
    expect(() => planAddresses([{ code: 'KZ', asns: [7, 7] }])).toThrow(/ASN 7 twice/);
    expect(() => planAddresses([{ code: 'kz', asns: [] }])).toThrow(/invalid country code/);
    expect(() => planAddresses([], { controls: 255 })).toThrow(/controls/);
    const plan = planAddresses(COUNTRIES);
    expect(() => plan.hostFor('KZ', 9198, 0)).toThrow(/out of range/);
    expect(() => plan.hostFor('KZ', 9198, 63)).toThrow(/out of range/);
    expect(() => plan.hostFor('KZ', 1, 1)).toThrow(/unknown ASN 1 of country KZ/);
    expect(() => plan.countryCidr('XX')).toThrow(/unknown country XX/);
  });
});

describe('parseLoopbackCidr', () => {
  it('accepts CIDRs and bare addresses inside 127.0.0.0/8, canonicalised', () => {
    expect(parseLoopbackCidr('127.10.0.77/26').cidr).toBe('127.10.0.64/26');
    expect(parseLoopbackCidr('127.0.0.1').cidr).toBe('127.0.0.1/32');
    expect(parseLoopbackCidr('127.0.0.0/8').cidr).toBe('127.0.0.0/8');
  });

  it('refuses anything outside 127.0.0.0/8 or malformed', () => {
    for (const bad of ['192.0.2.1', '198.51.100.0/24', '127.0.0.0/7', '0.0.0.0/0', '203.0.113.1/32']) {
      expect(() => parseLoopbackCidr(bad), bad).toThrow(/not inside 127\.0\.0\.0\/8/);
    }
    for (const bad of ['127.0.0.256', '127.0.0.1/33', '::1', 'localhost', '127.0.0.1/', '']) {
      expect(() => parseLoopbackCidr(bad), bad).toThrow(/invalid IPv4 CIDR/);
    }
  });
});

describe('splitRuleSpec', () => {
  it('splits an iptables -S line, unquoting quoted arguments', () => {
    expect(splitRuleSpec('-A OUTPUT -d 127.10.0.0/26 -p tcp -m comment --comment "lookout-sim:a-b" -m string --string "x.test" --algo bm -j DROP')).toEqual([
      '-A', 'OUTPUT', '-d', '127.10.0.0/26', '-p', 'tcp', '-m', 'comment', '--comment', 'lookout-sim:a-b',
      '-m', 'string', '--string', 'x.test', '--algo', 'bm', '-j', 'DROP',
    ]);
  });
});

// This suite runs in the host namespace (PID 1's, with a route out): the guard must refuse.
describe('the private-namespace guard, in the host namespace', () => {
  it('assertPrivateNetns rejects and inPrivateNetns is false', async () => {
    await expect(assertPrivateNetns()).rejects.toThrow(/refusing to inject network faults outside a private network namespace/);
    expect(await inPrivateNetns()).toBe(false);
  });

  it('every FaultInjector method rejects before running iptables', async () => {
    // A binary that does not exist: were it ever started, the error would name it, not the namespace.
    const faults = new FaultInjector({ iptables: '/nonexistent/iptables' });
    const guard = /outside a private network namespace/;
    await expect(faults.blackhole('bh', '127.10.0.0/24')).rejects.toThrow(guard);
    await expect(faults.reset('rst', '127.10.0.0/24', 443)).rejects.toThrow(guard);
    await expect(faults.sniFilter('sni', '127.10.0.0/24', 'blocked.test')).rejects.toThrow(guard);
    await expect(faults.unreachable('unr', '127.10.0.0/24')).rejects.toThrow(guard);
    await expect(faults.loss('loss', '127.10.0.0/24', 0.5)).rejects.toThrow(guard);
    await expect(faults.remove('bh')).rejects.toThrow(guard);
    await expect(faults.clear()).rejects.toThrow(guard);
    expect(faults.active()).toEqual([]);
  });

  it('invalid inputs are refused with a clear error naming the fault', async () => {
    const faults = new FaultInjector({ iptables: '/nonexistent/iptables' });
    await expect(faults.blackhole('bh', '0.0.0.0/0')).rejects.toThrow(/fault bh: CIDR "0\.0\.0\.0\/0" is not inside 127\.0\.0\.0\/8/);
    await expect(faults.blackhole('Bad Id', '127.10.0.0/24')).rejects.toThrow(/invalid fault id/);
    await expect(faults.loss('l', '127.10.0.0/24', 0)).rejects.toThrow(/fault l: probability/);
    await expect(faults.loss('l', '127.10.0.0/24', 1.5)).rejects.toThrow(/fault l: probability/);
    await expect(faults.sniFilter('s', '127.10.0.0/24', 'bad host')).rejects.toThrow(/fault s: invalid hostname/);
    await expect(faults.reset('r', '127.10.0.0/24', 70000)).rejects.toThrow(/fault r: invalid port/);
  });
});
