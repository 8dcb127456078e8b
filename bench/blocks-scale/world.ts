/**
 * The block world of the scale benchmark, inside the private namespace (the loopback answers all
 * of 127.0.0.0/8): the first N /24 blocks of 127.0.0.0/8 (at most 65,536, all of it), spread over
 * four countries and 64 ASes by range files in the @ip-location-db `-num.csv` format, with a
 * state file as a finished discovery pass leaves it (E(b) known, availability not yet learned),
 * so that the daemon starts probing rounds at once instead of spending hours discovering.
 *
 * Each block has two classes, from the low bits of its number:
 *   - size  ((b >> 2) & 3): |E(b)| = 16, 64, 128 or 256 addresses (.1-.16, .1-.64, .1-.128, .0-.255)
 *   - availability (b & 3): the share of E(b) that answers, 1, 0.75, 0.5 or 0.25, by the address's
 *     low two bits (an nftables rule on `ip daddr & 0.0.3.3`, so the rule set is the same size
 *     whatever N is)
 * and the nftables counters `class0` .. `class3` count the echoes each availability class gets.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TABLE = 'lookout_blocks_scale';
/** All of 127.0.0.0/8: 2^16 blocks. */
export const MAX_BLOCKS = 65_536;
/** Block 127.0.0.0/24's number. */
const FIRST_BLOCK = 127 << 16;
export const COUNTRIES = ['KZ', 'UZ', 'KG', 'TJ'] as const;
const ASNS_PER_COUNTRY = 16;
/** Availability of each class (b & 3). */
export const AVAILABILITY = [1, 0.75, 0.5, 0.25] as const;
/** |E(b)| of each size class ((b >> 2) & 3). */
const SIZES = [16, 64, 128, 256] as const;

/** The last octets of E(b) for block index `i` (0-based from 127.0.0.0/24). */
export function responsive(i: number): number[] {
  const size = SIZES[(i >> 2) & 3] as number;
  return size === 256 ? Array.from({ length: 256 }, (_, h) => h) : Array.from({ length: size }, (_, h) => h + 1);
}

/** Blocks of availability class `c` among the first `n`. */
export function classBlocks(n: number, c: number): number {
  return Math.max(0, Math.ceil((n - c) / AVAILABILITY.length));
}

/** Mean |E(b)| of the first `n` blocks. */
export function meanResponsive(n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += SIZES[(i >> 2) & 3] as number;
  return total / n;
}

function nft(script: string): void {
  execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Installs the nftables table: the per-class counters and the rule deciding who answers. */
export function installFilter(): void {
  const counters = AVAILABILITY.map((_, c) => `  counter class${c} { }`).join('\n');
  const count = AVAILABILITY.map((_, c) => `    ip daddr & 0.0.3.0 == 0.0.${c}.0 counter name class${c}`).join('\n');
  // Class c answers the addresses whose low two bits are below 4 - c.
  const silent = AVAILABILITY.flatMap((_, c) => [0, 1, 2, 3].filter((h) => h >= 4 - c).map((h) => `0.0.${c}.${h}`));
  nft(`table ip ${TABLE} {
${counters}
  chain input {
    type filter hook input priority 0; policy accept;
    icmp type echo-request ip daddr 127.0.0.0/8 jump world
  }
  chain world {
${count}
    ip daddr & 0.0.3.3 { ${silent.join(', ')} } drop
  }
}
`);
}

export function removeFilter(): void {
  execFileSync('nft', ['delete', 'table', 'ip', TABLE], { stdio: 'ignore' });
}

/** Echoes counted so far per availability class. */
export function classCounters(): number[] {
  const out = JSON.parse(execFileSync('nft', ['-j', 'list', 'counters', 'table', 'ip', TABLE], { encoding: 'utf8' })) as {
    nftables: { counter?: { name: string; packets: number } }[];
  };
  const by = new Map(out.nftables.flatMap((o) => (o.counter ? [[o.counter.name, o.counter.packets] as const] : [])));
  return AVAILABILITY.map((_, c) => by.get(`class${c}`) ?? 0);
}

/**
 * Writes the range files of the first `n` blocks into `dir`: four countries in equal runs of
 * blocks, each cut into 16 ASes. Returns their paths.
 */
export function writeRangeFiles(dir: string, n: number): { country: string; asn: string } {
  const first = (FIRST_BLOCK << 8) >>> 0;
  const range = (from: number, to: number): string => `${first + from * 256},${first + to * 256 - 1}`;
  const country: string[] = [];
  const asn: string[] = [];
  const perCountry = Math.ceil(n / COUNTRIES.length);
  const perAsn = Math.ceil(perCountry / ASNS_PER_COUNTRY);
  COUNTRIES.forEach((cc, c) => {
    const from = c * perCountry;
    const to = Math.min(n, from + perCountry);
    if (from >= to) return;
    country.push(`${range(from, to)},${cc}`);
    for (let a = 0; a < ASNS_PER_COUNTRY; a++) {
      const f = from + a * perAsn;
      const t = Math.min(to, f + perAsn);
      if (f < t) asn.push(`${range(f, t)},${64512 + c * ASNS_PER_COUNTRY + a},"Bench AS"`);
    }
  });
  const paths = { country: join(dir, 'country.csv'), asn: join(dir, 'asn.csv') };
  writeFileSync(paths.country, `${country.join('\n')}\n`);
  writeFileSync(paths.asn, `${asn.join('\n')}\n`);
  return paths;
}

/** The block number of block index `i`. */
export const blockNumber = (i: number): number => FIRST_BLOCK + i;
