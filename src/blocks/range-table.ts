/**
 * An IP range database read from an @ip-location-db `-num.csv` file (`start,end,value[,...]`,
 * addresses as integers; the ASN file adds a quoted organisation name, which is not read).
 * IPv4 rows only. Rows are kept in typed arrays sorted by start, so a lookup is a binary search
 * and 400,000 rows cost about 5 MB.
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { BlockId } from './block.js';
import { blocksOfRange } from './block.js';

export class RangeTable {
  private constructor(
    readonly path: string,
    private readonly starts: Uint32Array,
    private readonly ends: Uint32Array,
    /** Index into `names` per row. */
    private readonly values: Uint32Array,
    private readonly names: readonly string[],
  ) {}

  /**
   * Reads `path`. Lines that are not `int,int,value` with start <= end < 2^32 are counted in
   * `skipped`, not fatal (an IPv6 row, a header); a file with no usable row is an error.
   * @throws Error naming the file when it cannot be read or holds no IPv4 range.
   */
  static async read(path: string): Promise<{ table: RangeTable; skipped: number }> {
    const starts: number[] = [];
    const ends: number[] = [];
    const values: number[] = [];
    const names: string[] = [];
    const index = new Map<string, number>();
    let skipped = 0;
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      const [s, e, v] = line.split(',', 3);
      const start = Number(s);
      const end = Number(e);
      if (v === undefined || v === '' || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > 0xffffffff) {
        if (line.trim() !== '') skipped++;
        continue;
      }
      let i = index.get(v);
      if (i === undefined) {
        i = names.length;
        names.push(v);
        index.set(v, i);
      }
      starts.push(start);
      ends.push(end);
      values.push(i);
    }
    if (starts.length === 0) throw new Error(`${path}: no IPv4 range (expected lines start,end,value with integer addresses)`);
    // The packages' files are sorted already; sort (by a permutation) only when one is not.
    const order = Uint32Array.from(starts, (_, k) => k);
    if (starts.some((v, k) => k > 0 && v < (starts[k - 1] as number))) order.sort((a, b) => (starts[a] as number) - (starts[b] as number));
    const pick = (list: number[]): Uint32Array => Uint32Array.from(order, (k) => list[k] as number);
    return { table: new RangeTable(path, pick(starts), pick(ends), pick(values), names), skipped };
  }

  /** The value of the range holding `address`, or undefined. */
  lookup(address: number): string | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.starts[mid] as number) <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || (this.ends[hi] as number) < address) return undefined;
    return this.names[this.values[hi] as number];
  }

  /** The value of a block: that of its first address, else of the first range inside it. */
  lookupBlock(b: BlockId): string | undefined {
    const first = (b << 8) >>> 0;
    return this.lookup(first) ?? this.lookup(first + 128) ?? this.lookup(first + 255);
  }

  /** Every block that a range with this value touches. */
  blocksOf(value: string): Set<BlockId> {
    const out = new Set<BlockId>();
    for (let i = 0; i < this.starts.length; i++) {
      if (this.names[this.values[i] as number] !== value) continue;
      for (const b of blocksOfRange(this.starts[i] as number, this.ends[i] as number)) out.add(b);
    }
    return out;
  }
}

/** The shipped IPv4 range files (the npm packages @ip-location-db/geo-whois-asn-country and @ip-location-db/asn). */
export const SHIPPED_DATABASES = {
  country: '@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv4-num.csv',
  asn: '@ip-location-db/asn/asn-ipv4-num.csv',
} as const;

/** The path of a shipped range file, or null when its package is not installed. */
export function shippedDatabase(which: keyof typeof SHIPPED_DATABASES): string | null {
  try {
    return createRequire(import.meta.url).resolve(SHIPPED_DATABASES[which]);
  } catch {
    return null;
  }
}
