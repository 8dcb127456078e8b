/** The `geo:` config section and the target field `geo`, through the real config loader. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';
import { geoPaths, openGeo } from '../../../src/geo/geo-config.js';
import { shippedCountryDb } from '../../../src/geo/geo-db.js';

const WORLD_DB = resolve(import.meta.dirname, '../../..', 'scenarios/geo/cdn-abroad.mmdb');

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-geo-config-'));
  writeFileSync(join(dir, 'lookout.yaml'), text);
  return join(dir, 'lookout.yaml');
}

async function problems(text: string): Promise<string[]> {
  try {
    await loadConfig(configFile(text));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('geo config', () => {
  it('defaults to the shipped country database and no ASN database', async () => {
    const config = await loadConfig(configFile('vantage: { id: v }\n'));
    expect(config.geo).toEqual({ asn_db: null });
    expect(geoPaths(config)).toEqual({ country: shippedCountryDb(), asn: null, countryOff: null });
  });

  it('resolves paths against the config file; null turns the country check off', async () => {
    const file = configFile('vantage: { id: v }\ngeo: { country_db: db/c.mmdb, asn_db: /abs/a.mmdb }\n');
    const config = await loadConfig(file);
    expect(geoPaths(config)).toEqual({ country: join(file, '..', 'db/c.mmdb'), asn: '/abs/a.mmdb', countryOff: null });
    const off = await loadConfig(configFile('vantage: { id: v }\ngeo: { country_db: null }\n'));
    expect(geoPaths(off)).toMatchObject({ country: null, countryOff: 'geo.country_db is null' });
  });

  it('is strict, and so is the target field', async () => {
    expect(await problems('vantage: { id: v }\ngeo: { country: x.mmdb }\n')).toEqual(['geo.country: unknown key']);
    const bad = await problems('vantage: { id: v, country: KZ }\ntargets: [{ id: t, kind: tcp, host: h, port: 1, geo: skip }]\n');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^targets\.0 \(t\)\.geo: /);
    const ok = await loadConfig(configFile('vantage: { id: v, country: KZ }\ntargets: [{ id: t, kind: tcp, host: h, port: 1, geo: ignore }]\n'));
    expect(ok.targets[0]?.geo).toBe('ignore');
  });

  it('opens the named files, and names the field whose file cannot be opened', async () => {
    const good = await openGeo(await loadConfig(configFile(`vantage: { id: v }\ngeo: { country_db: ${WORLD_DB}, asn_db: ${WORLD_DB} }\n`)));
    expect(good.db.lookup('127.10.1.1')).toEqual({ country: 'DE', asn: 3320 });
    const config = await loadConfig(configFile(`vantage: { id: v }\ngeo: { country_db: ${WORLD_DB}, asn_db: missing.mmdb }\n`));
    const err = await openGeo(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toHaveLength(1);
    expect((err as ConfigError).problems[0]).toMatch(/^geo\.asn_db: cannot open .*missing\.mmdb as a MaxMind DB/);
  });
});
