/**
 * The blocks to watch, from the `blocks.sources` of the config (docs/blocks.md "Address space"):
 * every /24 that a range of a country or an AS touches (the @ip-location-db range files), and
 * the blocks of a hitlist file with their listed addresses. Each block gets a country and an
 * ASN: a hitlist's own columns first, then the source that named it, then the databases.
 * Excluded addresses (the exclude file) are never listed; a hitlist block keeps only its
 * addresses outside the exclusion.
 */
import { readFile } from 'node:fs/promises';
import { BlockList } from 'node:net';
import type { BlocksConfig } from '../config/blocks-schema.js';
import { ConfigError } from '../config/errors.js';
import { blockOfInt, ipv4ToInt, intToIpv4, type BlockId } from './block.js';
import { RangeTable, shippedDatabase } from './range-table.js';

/** One block to watch. */
export interface BlockEntry {
  id: BlockId;
  country: string | null;
  asn: number | null;
  /** The hitlist's addresses of the block (last octets), which skip discovery; null: discover. */
  hitlist: number[] | null;
}

/** Addresses never probed. */
export interface Exclusion {
  /** Whether the address (an integer) is excluded. */
  has(address: number): boolean;
  /** How many prefixes the file listed. */
  readonly prefixes: number;
}

/** Reads the exclude file: one IPv4/IPv6 address or CIDR a line, `#` starts a comment. */
export async function readExclusion(path: string | undefined): Promise<Exclusion> {
  const list = new BlockList();
  let prefixes = 0;
  if (path === undefined) return { has: () => false, prefixes };
  const problems: string[] = [];
  const text = await readFileOrFail(path, 'blocks.exclude');
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [addr, len] = line.split('/');
    const family = addr !== undefined && ipv4ToInt(addr) !== null ? 'ipv4' : 'ipv6';
    try {
      if (len === undefined) list.addAddress(addr ?? '', family);
      else list.addSubnet(addr ?? '', Number(len), family);
      prefixes++;
    } catch {
      problems.push(`blocks.exclude: ${path}: line ${i + 1}: "${line}" is not an address or a CIDR prefix`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return { has: (address) => list.check(intToIpv4(address), 'ipv4'), prefixes };
}

async function readFileOrFail(path: string, field: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${field}: cannot read ${path}: ${(err as Error).message}`]);
  }
}

interface HitlistRow {
  address: number;
  country: string | null;
  asn: number | null;
}

/**
 * Reads a hitlist: CSV with a header naming `address` and optionally `country` and `asn`.
 * @throws ConfigError naming the field, file and line of every bad row.
 */
export async function readHitlist(path: string, field: string): Promise<HitlistRow[]> {
  const lines = (await readFileOrFail(path, field)).split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = { address: header.indexOf('address'), country: header.indexOf('country'), asn: header.indexOf('asn') };
  if (col.address < 0) throw new ConfigError([`${field}: ${path}: the header must name an "address" column (address,country,asn)`]);
  const rows: HitlistRow[] = [];
  const problems: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    const at = `${field}: ${path}: line ${i + 1}`;
    const address = ipv4ToInt(cells[col.address] ?? '');
    const country = col.country >= 0 && cells[col.country] ? (cells[col.country] as string) : null;
    const asnText = col.asn >= 0 && cells[col.asn] ? (cells[col.asn] as string).replace(/^AS/i, '') : null;
    const asn = asnText === null ? null : Number(asnText);
    if (address === null) problems.push(`${at}: "${cells[col.address] ?? ''}" is not an IPv4 address (IPv6 blocks are not probed yet)`);
    else if (country !== null && !/^[A-Z]{2}$/.test(country)) problems.push(`${at}: country "${country}" must be an ISO 3166-1 alpha-2 code such as KZ`);
    else if (asn !== null && (!Number.isInteger(asn) || asn < 1 || asn > 4_294_967_295)) problems.push(`${at}: asn "${asnText ?? ''}" must be an AS number`);
    else rows.push({ address, country, asn });
    if (problems.length >= 20) break;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return rows;
}

/** The range databases, read only when a source or an unlabelled hitlist row needs them. */
class Databases {
  private country: Promise<RangeTable> | null = null;
  private asn: Promise<RangeTable> | null = null;
  constructor(private readonly paths: BlocksConfig['databases']) {}

  countries(): Promise<RangeTable> {
    this.country ??= open(this.paths.country ?? shippedDatabase('country'), 'blocks.databases.country');
    return this.country;
  }
  asns(): Promise<RangeTable> {
    this.asn ??= open(this.paths.asn ?? shippedDatabase('asn'), 'blocks.databases.asn');
    return this.asn;
  }
}

async function open(path: string | null, field: string): Promise<RangeTable> {
  if (path === null) throw new ConfigError([`${field}: no database given and the shipped @ip-location-db package is not installed`]);
  try {
    return (await RangeTable.read(path)).table;
  } catch (err) {
    throw new ConfigError([`${field}: ${(err as Error).message}`]);
  }
}

function asnOf(value: string | undefined): number | null {
  const n = value === undefined ? NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * Every block the sources name, in block order, with its country and ASN.
 * @throws ConfigError naming the field (a hitlist's bad rows, an unreadable database).
 */
export async function loadAddressSpace(config: Pick<BlocksConfig, 'sources' | 'databases'>, exclusion: Exclusion): Promise<BlockEntry[]> {
  const db = new Databases(config.databases);
  const blocks = new Map<BlockId, BlockEntry>();
  const entry = (id: BlockId): BlockEntry => {
    let e = blocks.get(id);
    if (!e) blocks.set(id, (e = { id, country: null, asn: null, hitlist: null }));
    return e;
  };
  for (const [i, source] of config.sources.entries()) {
    if ('country' in source) {
      for (const id of (await db.countries()).blocksOf(source.country)) entry(id).country ??= source.country;
    } else if ('asn' in source) {
      for (const id of (await db.asns()).blocksOf(String(source.asn))) entry(id).asn ??= source.asn;
    } else {
      for (const row of await readHitlist(source.file, `blocks.sources.${i}.file`)) {
        if (exclusion.has(row.address)) continue;
        const e = entry(blockOfInt(row.address));
        e.hitlist ??= [];
        if (!e.hitlist.includes(row.address & 255)) e.hitlist.push(row.address & 255);
        if (row.country !== null) e.country = row.country;
        if (row.asn !== null) e.asn = row.asn;
      }
    }
  }
  for (const e of blocks.values()) {
    if (e.country === null) e.country = (await db.countries()).lookupBlock(e.id) ?? null;
    if (e.asn === null) e.asn = asnOf((await db.asns()).lookupBlock(e.id));
  }
  return [...blocks.values()].sort((a, b) => a.id - b.id);
}
