/**
 * From the config's `geo:` section to open databases. Paths are relative to the config file;
 * `country_db` absent means the shipped database (off, with a note, when it is not installed);
 * null turns a check off. A configured file that cannot be opened is a config problem naming
 * the field.
 */
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/errors.js';
import type { Config } from '../config/schema.js';
import { GeoDb, GeoDbError, openMmdb, shippedCountryDb, type OpenMmdb } from './geo-db.js';

export interface GeoPaths {
  country: string | null;
  asn: string | null;
  /** Why the country check is off when `country` is null. */
  countryOff: string | null;
}

/** The database paths a config asks for, resolved against its file. */
export function geoPaths(config: Pick<Config, 'geo' | 'file'>): GeoPaths {
  const dir = dirname(config.file);
  const { country_db: countryDb, asn_db: asnDb } = config.geo;
  const asn = asnDb === null ? null : resolve(dir, asnDb);
  if (countryDb === null) return { country: null, asn, countryOff: 'geo.country_db is null' };
  if (countryDb !== undefined) return { country: resolve(dir, countryDb), asn, countryOff: null };
  const shipped = shippedCountryDb();
  return { country: shipped, asn, countryOff: shipped === null ? 'the shipped database (@ip-location-db/geo-whois-asn-country-mmdb) is not installed' : null };
}

/**
 * Opens the databases of a config. A missing or broken shipped file turns the country check
 * off (paths.countryOff says why); a configured file that fails is a problem.
 * @throws ConfigError naming geo.country_db or geo.asn_db.
 */
export async function openGeo(config: Pick<Config, 'geo' | 'file'>): Promise<{ db: GeoDb; paths: GeoPaths }> {
  let paths = geoPaths(config);
  const problems: string[] = [];
  let country: OpenMmdb | null = null;
  let asn: OpenMmdb | null = null;
  if (paths.country !== null) {
    try {
      country = await openMmdb(paths.country);
    } catch (err) {
      if (!(err instanceof GeoDbError)) throw err;
      if (config.geo.country_db !== undefined) problems.push(`geo.country_db: ${err.message}`);
      paths = { ...paths, country: null, countryOff: err.message };
    }
  }
  if (paths.asn !== null) {
    try {
      asn = paths.asn === paths.country && country !== null ? country : await openMmdb(paths.asn);
    } catch (err) {
      if (!(err instanceof GeoDbError)) throw err;
      problems.push(`geo.asn_db: ${err.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { db: new GeoDb(country, asn), paths };
}
