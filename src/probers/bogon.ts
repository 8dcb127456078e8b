/**
 * Address-range checks for DNS answers: is an answer in reserved ("bogon") space, and does it
 * fall in the ranges a target expects. Matching is done by node:net BlockList.
 */
import { BlockList, isIP } from 'node:net';

/**
 * Reserved ranges a public name should never resolve to. A resolver answering with one of them
 * (0.0.0.0, 127.0.0.1, RFC 1918 ...) is the classic DNS-blocking signature.
 *
 * Deliberately absent: the documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24
 * and 2001:db8::/32. The tests and example catalogs use them as "wrong but plausible" answer
 * data (never dialled), so they must classify as ordinary public space, giving
 * dns_unexpected_answer rather than dns_bogon_answer.
 *
 * IPv4-mapped IPv6 (::ffff:0:0/96) is not listed: such an address is checked as its IPv4 form
 * (see toCanonical), so ::ffff:10.0.0.1 is a bogon and ::ffff:8.8.8.8 is not.
 */
export const BOGON_CIDRS: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4', // includes the limited broadcast 255.255.255.255
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

const MAPPED_V4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The address in the form it is matched in: IPv4 stays as is, an IPv4-mapped IPv6 address
 * (in any spelling) becomes its IPv4 address, other IPv6 is returned unchanged.
 * Throws TypeError for a string that is not an IP address.
 */
export function toCanonical(ip: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const family = isIP(ip);
  if (family === 4) return { address: ip, family: 'ipv4' };
  if (family !== 6) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
  // The URL parser prints IPv6 in its canonical compressed hex form, so every spelling of a
  // mapped address (::ffff:1.2.3.4, 0:0:0:0:0:FFFF:102:304 ...) ends up as ::ffff:102:304.
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const m = MAPPED_V4.exec(canonical);
  if (!m) return { address: ip, family: 'ipv6' };
  const bytes = Buffer.alloc(4);
  bytes.writeUInt16BE(Number.parseInt(m[1] as string, 16), 0);
  bytes.writeUInt16BE(Number.parseInt(m[2] as string, 16), 2);
  return { address: [...bytes].join('.'), family: 'ipv4' };
}

function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address, len, extra] = cidr.split('/');
  const family = address === undefined ? 0 : isIP(address);
  const prefix = Number(len);
  if (address === undefined || family === 0 || extra !== undefined || !/^\d{1,3}$/.test(len ?? '') || prefix > (family === 4 ? 32 : 128)) {
    throw new TypeError(`not a CIDR: ${JSON.stringify(cidr)}`);
  }
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * A predicate telling whether an address lies in any of `cidrs` ("a.b.c.d/len" or "v6/len").
 * IPv4-mapped IPv6 addresses are matched as their IPv4 form. Throws TypeError for a malformed
 * CIDR (config validation rejects those earlier); the predicate throws for a non-IP string.
 */
export function cidrMatcher(cidrs: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const { address, prefix, family } = parseCidr(cidr);
    list.addSubnet(address, prefix, family);
  }
  return (ip) => {
    const { address, family } = toCanonical(ip);
    return list.check(address, family);
  };
}

const bogonMatcher = cidrMatcher(BOGON_CIDRS);

/** True when `ip` is in reserved space (BOGON_CIDRS). Throws TypeError for a non-IP string. */
export function isBogon(ip: string): boolean {
  return bogonMatcher(ip);
}
