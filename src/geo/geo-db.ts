/**
 * Offline IP geolocation: MaxMind DB (MMDB) files read with the `maxmind` library, looked up
 * in memory (no network, ever). Two optional databases:
 *
 * - a country database: records with `country_code` (the @ip-location-db packages) or
 *   `country.iso_code` / `registered_country.iso_code` (GeoLite2, DB-IP);
 * - an ASN database: records with `autonomous_system_number` (GeoLite2-ASN and files made by
 *   scripts/asn-mmdb.pl), or `asn`.
 *
 * One file may serve both (a record holding a country code and an AS number). The shipped
 * country database is the npm package @ip-location-db/geo-whois-asn-country-mmdb.
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import maxmind, { type Reader, type Response } from 'maxmind';

/** Where an address is, as far as the databases know; null fields are unknown. */
export interface GeoLocation {
  country: string | null;
  asn: number | null;
}

/** The database files in use and their build dates, for logs and check-config. */
export interface GeoDbInfo {
  path: string;
  /** From the file's metadata (its build time). */
  built: string;
  type: string;
}

/** The path of the country database shipped as an npm dependency; null when it is not installed. */
export function shippedCountryDb(): string | null {
  try {
    return createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
  } catch {
    return null;
  }
}

export class GeoDbError extends Error {
  readonly code = 'LOOKOUT_GEO_DB';
}

/** An open MMDB file. */
export interface OpenMmdb {
  path: string;
  reader: Reader<Response>;
}

/**
 * Opens one MMDB file into memory.
 * @throws GeoDbError naming the file when it cannot be read or is not an MMDB.
 */
export async function openMmdb(path: string): Promise<OpenMmdb> {
  return { path, reader: await openReader(path) };
}

/** An open pair of databases (either may be absent). Lookups are synchronous and never throw. */
export class GeoDb {
  readonly country: GeoDbInfo | null;
  readonly asn: GeoDbInfo | null;
  private readonly countryDb: Reader<Response> | null;
  private readonly asnDb: Reader<Response> | null;

  constructor(country: OpenMmdb | null, asn: OpenMmdb | null) {
    this.countryDb = country?.reader ?? null;
    this.asnDb = asn?.reader ?? null;
    this.country = info(country);
    this.asn = info(asn);
  }

  /** Opens the given files (null: that check is off). @throws GeoDbError naming the file. */
  static async open(paths: { country: string | null; asn: string | null }): Promise<GeoDb> {
    const country = paths.country === null ? null : await openMmdb(paths.country);
    const asn = paths.asn === null ? null : paths.asn === paths.country ? country : await openMmdb(paths.asn);
    return new GeoDb(country, asn);
  }

  /** True when at least one database is open. */
  get enabled(): boolean {
    return this.countryDb !== null || this.asnDb !== null;
  }

  /** Looks `ip` up in both databases; unknown (or not an IP address) gives nulls. */
  lookup(ip: string): GeoLocation {
    // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; the databases key it by a.b.c.d.
    if (ip.startsWith('::ffff:') && ip.includes('.')) ip = ip.slice(7);
    if (isIP(ip) === 0) return { country: null, asn: null };
    return {
      country: this.countryDb === null ? null : countryOf(this.countryDb.get(ip)),
      asn: this.asnDb === null ? null : asnOf(this.asnDb.get(ip)),
    };
  }
}

async function openReader(path: string): Promise<Reader<Response>> {
  try {
    // No file watch: a newer file is taken by a reload (which reopens) or a restart. maxmind
    // keeps its default LRU of 10,000 answers; GeoCheck already skips a target's repeated address.
    return await maxmind.open<Response>(path);
  } catch (err) {
    throw new GeoDbError(`cannot open ${path} as a MaxMind DB: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function info(db: OpenMmdb | null): GeoDbInfo | null {
  if (db === null) return null;
  return { path: db.path, built: db.reader.metadata.buildEpoch.toISOString(), type: db.reader.metadata.databaseType };
}

function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
}

function code(v: unknown): string | null {
  return typeof v === 'string' && /^[A-Za-z]{2}$/.test(v) ? v.toUpperCase() : null;
}

/** The record's country: country_code, else country.iso_code, else registered_country.iso_code. */
export function countryOf(record: unknown): string | null {
  return code(field(record, 'country_code')) ?? code(field(field(record, 'country'), 'iso_code')) ?? code(field(field(record, 'registered_country'), 'iso_code'));
}

/** The record's AS number: autonomous_system_number, else asn (a number or "AS123"). */
export function asnOf(record: unknown): number | null {
  const v = field(record, 'autonomous_system_number') ?? field(record, 'asn');
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^(?:AS)?(\d{1,10})$/i.exec(v);
    if (m) return Number(m[1]);
  }
  return null;
}
