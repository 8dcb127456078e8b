/**
 * The address plan of the simulated world: every address lives in 127.0.0.0/8, so the whole
 * world is bound on the loopback interface of a private network namespace.
 *
 *   controls:            127.1.0.0/24, control n at 127.1.0.n (n >= 1)
 *   country i:           127.(10 + floor(i / 256)).(i % 256).0/24
 *   ASN j of a country:  the j-th /26 inside the country's /24 (at most 4 ASNs per country)
 *   hostFor(c, asn, n):  the ASN block's base + n, n in 1..62
 *
 * Pure and deterministic: the same countries in the same order give the same plan.
 */

export const CONTROLS_CIDR = '127.1.0.0/24';
export const MAX_ASNS_PER_COUNTRY = 4;
/** Hosts per ASN block: a /26 minus its first and last address. */
export const MAX_HOSTS_PER_ASN = 62;
const MAX_CONTROLS = 254;
const FIRST_COUNTRY_OCTET = 10;
const MAX_COUNTRIES = (256 - FIRST_COUNTRY_OCTET) * 256;

export interface AsnBlock {
  asn: number;
  /** The ASN's /26, e.g. "127.10.0.64/26". */
  cidr: string;
}

export interface CountryBlock {
  code: string;
  /** The country's /24, e.g. "127.10.0.0/24". */
  cidr: string;
  asns: AsnBlock[];
}

export interface AddressPlan {
  controls: { cidr: string; addresses: string[] };
  countries: CountryBlock[];
  /** The /24 of a country; throws for an unknown country. */
  countryCidr(code: string): string;
  /** The /26 of an ASN of a country; throws for an unknown pair. */
  asnCidr(code: string, asn: number): string;
  /** The n-th host (1..62) of the ASN's block; throws for an unknown pair or n out of range. */
  hostFor(code: string, asn: number, n: number): string;
}

export interface PlanOptions {
  /** Control addresses to allocate in 127.1.0.0/24, 0..254; default 1. */
  controls?: number;
}

export interface CountryInput {
  code: string;
  asns: number[];
}

/** A parsed IPv4 CIDR inside 127.0.0.0/8. */
export interface LoopbackCidr {
  /** The network address as a 32-bit unsigned integer. */
  network: number;
  prefix: number;
  /** Canonical form "a.b.c.d/len" (host bits cleared). */
  cidr: string;
}

function toDotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function fromOctets(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Throws unless `ip` (a 32-bit integer) is in 127.0.0.0/8. */
function assertLoopbackInt(ip: number): void {
  if (ip >>> 24 !== 127) throw new Error(`address ${toDotted(ip)} is outside 127.0.0.0/8`);
}

/**
 * Parses "a.b.c.d/len" or a bare "a.b.c.d" (as /32) and checks it lies inside 127.0.0.0/8
 * (prefix 8..32). Throws an Error naming the input otherwise; this is the guard that keeps
 * fault rules away from every non-loopback address.
 */
export function parseLoopbackCidr(input: string): LoopbackCidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(input);
  if (!m) throw new Error(`invalid IPv4 CIDR "${input}"`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`invalid IPv4 CIDR "${input}"`);
  if (octets[0] !== 127 || prefix < 8) throw new Error(`CIDR "${input}" is not inside 127.0.0.0/8; only loopback addresses are allowed`);
  const [a, b, c, d] = octets as [number, number, number, number];
  const network = (fromOctets(a, b, c, d) & maskOf(prefix)) >>> 0;
  return { network, prefix, cidr: `${toDotted(network)}/${prefix}` };
}

function countryBase(i: number): number {
  return fromOctets(127, FIRST_COUNTRY_OCTET + Math.floor(i / 256), i % 256, 0);
}

function checkAsn(code: string, asn: number): void {
  if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) throw new Error(`country ${code}: invalid ASN ${asn}`);
}

/**
 * Lays out controls, countries and ASNs in 127.0.0.0/8 (see the module comment). Throws an
 * Error for a duplicate country code, a duplicate ASN within a country, more than 4 ASNs in a
 * country, too many countries or controls.
 */
export function planAddresses(countries: CountryInput[], opts: PlanOptions = {}): AddressPlan {
  const controlCount = opts.controls ?? 1;
  if (!Number.isInteger(controlCount) || controlCount < 0 || controlCount > MAX_CONTROLS) {
    throw new Error(`controls must be an integer in 0..${MAX_CONTROLS}, got ${controlCount}`);
  }
  if (countries.length > MAX_COUNTRIES) throw new Error(`at most ${MAX_COUNTRIES} countries fit in 127.0.0.0/8`);
  const controlsBase = parseLoopbackCidr(CONTROLS_CIDR).network;
  const controls = Array.from({ length: controlCount }, (_, k) => toDotted(controlsBase + k + 1));

  const bases = new Map<string, Map<number, number>>();
  const blocks: CountryBlock[] = countries.map((country, i) => {
    if (!/^[A-Z]{2}$/.test(country.code)) throw new Error(`invalid country code "${country.code}" (expected ISO 3166-1 alpha-2)`);
    if (bases.has(country.code)) throw new Error(`country ${country.code} appears twice`);
    if (country.asns.length > MAX_ASNS_PER_COUNTRY) {
      throw new Error(`country ${country.code} has ${country.asns.length} ASNs; at most ${MAX_ASNS_PER_COUNTRY} fit in its /24`);
    }
    const base = countryBase(i);
    assertLoopbackInt(base);
    const asnBases = new Map<number, number>();
    const asns = country.asns.map((asn, j) => {
      checkAsn(country.code, asn);
      if (asnBases.has(asn)) throw new Error(`country ${country.code} lists ASN ${asn} twice`);
      const asnBase = base + j * 64;
      asnBases.set(asn, asnBase);
      return { asn, cidr: `${toDotted(asnBase)}/26` };
    });
    bases.set(country.code, asnBases);
    return { code: country.code, cidr: `${toDotted(base)}/24`, asns };
  });

  const country = (code: string): CountryBlock => {
    const found = blocks.find((b) => b.code === code);
    if (!found) throw new Error(`unknown country ${code} in the address plan`);
    return found;
  };
  const asnBase = (code: string, asn: number): number => {
    const found = bases.get(code)?.get(asn);
    if (found === undefined) throw new Error(`unknown ASN ${asn} of country ${code} in the address plan`);
    return found;
  };

  return {
    controls: { cidr: CONTROLS_CIDR, addresses: controls },
    countries: blocks,
    countryCidr: (code) => country(code).cidr,
    asnCidr: (code, asn) => `${toDotted(asnBase(code, asn))}/26`,
    hostFor: (code, asn, n) => {
      const base = asnBase(code, asn);
      if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS_PER_ASN) {
        throw new Error(`host number ${n} out of range 1..${MAX_HOSTS_PER_ASN} for ASN ${asn} of ${code}`);
      }
      const ip = base + n;
      assertLoopbackInt(ip);
      return toDotted(ip);
    },
  };
}
