/**
 * The location databases, read for real with the maxmind library: the simulated world's MMDB
 * (scenarios/geo/cdn-abroad.mmdb, written by scripts/mmdb-build.pl from its CSV) and the
 * shipped country database from npm.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asnOf, countryOf, GeoDb, GeoDbError, shippedCountryDb } from '../../../src/geo/geo-db.js';
import { parseScenario } from '../../../src/sim/scenario.js';
import { layoutWorld } from '../../../src/sim/world.js';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../../..');
const WORLD_DB = join(ROOT, 'scenarios/geo/cdn-abroad.mmdb');

describe('GeoDb on the simulated world', () => {
  it('places every world target where the address plan put it: the CDN edges in DE', async () => {
    const db = await GeoDb.open({ country: WORLD_DB, asn: WORLD_DB });
    const file = join(ROOT, 'scenarios/cdn-abroad.yaml');
    const { targets } = layoutWorld(parseScenario(readFileSync(file, 'utf8'), file));
    const located = targets.filter((t) => !t.control).map((t) => [t.id, db.lookup(t.ip)]);
    expect(located).toContainEqual(['kz-gov-1', { country: 'KZ', asn: 9198 }]);
    expect(located).toContainEqual(['kz-news-1', { country: 'KZ', asn: 21299 }]);
    expect(located).toContainEqual(['kz-cdn-1', { country: 'DE', asn: 3320 }]);
    for (const t of targets.filter((x) => !x.control)) expect(db.lookup(t.ip), t.id).toEqual({ country: t.located.country, asn: t.located.asn });
  });

  it('knows nothing of addresses outside its networks, and of non-addresses', async () => {
    const db = await GeoDb.open({ country: WORLD_DB, asn: null });
    expect(db.lookup('127.1.0.1')).toEqual({ country: null, asn: null });
    expect(db.lookup('not-an-ip')).toEqual({ country: null, asn: null });
    // No ASN database: the AS is unknown even where the record has one.
    expect(db.lookup('127.10.0.1')).toEqual({ country: 'KZ', asn: null });
    expect(db.country?.path).toBe(WORLD_DB);
    expect(db.country?.type).toBe('Lookout-Sim-World');
    expect(db.asn).toBeNull();
  });

  it('with no files is off', async () => {
    const db = await GeoDb.open({ country: null, asn: null });
    expect(db.enabled).toBe(false);
    expect(db.lookup('127.10.0.1')).toEqual({ country: null, asn: null });
  });

  it('names the file that is missing or not an MMDB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lookout-geo-'));
    writeFileSync(join(dir, 'junk.mmdb'), 'this is not a MaxMind DB\n');
    await expect(GeoDb.open({ country: join(dir, 'missing.mmdb'), asn: null })).rejects.toThrow(GeoDbError);
    await expect(GeoDb.open({ country: join(dir, 'missing.mmdb'), asn: null })).rejects.toThrow(/missing\.mmdb/);
    await expect(GeoDb.open({ country: null, asn: join(dir, 'junk.mmdb') })).rejects.toThrow(/junk\.mmdb/);
  });

  it('a newer file dropped in place is what the next open reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lookout-geo-'));
    const path = join(dir, 'country.mmdb');
    copyFileSync(WORLD_DB, path);
    expect((await GeoDb.open({ country: path, asn: null })).lookup('127.10.1.1').country).toBe('DE');
  });
});

/** The address of a dns target's server in a shipped catalog. */
function catalogServer(file: string, id: string): string {
  const catalog = parse(readFileSync(join(ROOT, 'probes', file), 'utf8')) as { targets: { id: string; server?: string }[] };
  const server = catalog.targets.find((t) => t.id === id)?.server;
  if (server === undefined) throw new Error(`${file} has no dns target ${id}`);
  return server.slice(0, server.lastIndexOf(':'));
}

describe('the shipped country database', () => {
  it('is installed and locates real addresses offline', async () => {
    const path = shippedCountryDb();
    expect(path).toMatch(/geo-whois-asn-country\.mmdb$/);
    const db = await GeoDb.open({ country: path, asn: null });
    // Public addresses live in the catalogs only: a Kazakhtelecom resolver of probes/kz.yaml and
    // an anycast control of probes/controls.yaml (in the US registry), read from there.
    expect(db.lookup(catalogServer('kz.yaml', 'kz-kt-dns-1')).country).toBe('KZ');
    expect(db.lookup(catalogServer('controls.yaml', 'ctl-google-dns')).country).toBe('US');
    expect(db.lookup('127.0.0.1').country).toBeNull();
  });
});

describe('record shapes', () => {
  it('reads the country from ip-location-db, GeoLite2 and DB-IP records', () => {
    expect(countryOf({ country_code: 'kz' })).toBe('KZ');
    expect(countryOf({ country: { iso_code: 'MM' } })).toBe('MM');
    expect(countryOf({ registered_country: { iso_code: 'IQ' } })).toBe('IQ');
    expect(countryOf({ country_code: 'not a code' })).toBeNull();
    expect(countryOf(null)).toBeNull();
  });

  it('reads the AS number from GeoLite2-ASN style and "AS123" records', () => {
    expect(asnOf({ autonomous_system_number: 9198 })).toBe(9198);
    expect(asnOf({ asn: 'AS21299' })).toBe(21299);
    expect(asnOf({ asn: 'twelve' })).toBeNull();
    expect(asnOf({})).toBeNull();
  });
});

describe('scripts/mmdb-build.pl (MaxMind DB writer)', () => {
  it('writes both CSV shapes into one MMDB that the maxmind reader locates', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'lookout-mmdb-'));
    writeFileSync(join(dir, 'world.csv'), 'network,country_code,asn\n# a comment\n127.20.0.0/24,mm,9988\n127.20.1.0/24,IQ,\n');
    writeFileSync(join(dir, 'asn.csv'), '127.30.0.0,127.30.0.255,50710,"EarthLink, Ltd."\n2001:db8::,2001:db8::ffff,64500,Example\n');
    const out = join(dir, 'both.mmdb');
    const said = execFileSync('perl', [join(ROOT, 'scripts/mmdb-build.pl'), '--type', 'Test-DB', '--out', out, join(dir, 'world.csv'), join(dir, 'asn.csv')], { encoding: 'utf8' });
    expect(said).toContain(`${out}: 4 networks`);
    const db = await GeoDb.open({ country: out, asn: out });
    expect(db.country?.type).toBe('Test-DB');
    expect(db.lookup('127.20.0.9')).toEqual({ country: 'MM', asn: 9988 });
    expect(db.lookup('127.20.1.9')).toEqual({ country: 'IQ', asn: null });
    expect(db.lookup('127.30.0.200')).toEqual({ country: null, asn: 50710 });
    expect(db.lookup('::ffff:127.30.0.200')).toEqual({ country: null, asn: 50710 });
    expect(db.lookup('2001:db8::10')).toEqual({ country: null, asn: 64500 });
  });

  it('the simulated world\'s committed MMDB is what its CSV builds', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = join(mkdtempSync(join(tmpdir(), 'lookout-mmdb-')), 'rebuilt.mmdb');
    execFileSync('perl', [join(ROOT, 'scripts/mmdb-build.pl'), '--out', out, join(ROOT, 'scenarios/geo/cdn-abroad.csv')]);
    const [rebuilt, shipped] = await Promise.all([GeoDb.open({ country: out, asn: out }), GeoDb.open({ country: WORLD_DB, asn: WORLD_DB })]);
    for (const ip of ['127.10.0.1', '127.10.0.63', '127.10.0.64', '127.10.0.127', '127.10.0.128', '127.10.1.1', '127.10.1.63', '127.10.1.64', '127.1.0.1']) {
      expect(rebuilt.lookup(ip), ip).toEqual(shipped.lookup(ip));
    }
  });
});
