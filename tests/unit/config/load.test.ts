import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';

// Absolute fixture paths: the tests run with the repository as the working directory, so a
// loader that resolved globs against process.cwd() instead of the config's directory would fail.
const FIXTURES = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);

/** The problems loadConfig reports for `file`; fails the test when it loads cleanly. */
async function problemsOf(file: string): Promise<string[]> {
  try {
    await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`expected ${file} to be invalid`);
}

let scratch: string;
let counter = 0;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lookout-config-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Writes a config tree into a fresh directory; returns the absolute path of `lookout.yaml`. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = join(scratch, `case-${counter++}`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return join(dir, 'lookout.yaml');
}

const VANTAGE = 'vantage: { id: test-1, country: DE }\n';

describe('loadConfig: the valid fixture', () => {
  let config: Config;
  beforeAll(async () => {
    config = await loadConfig(fixture('valid/config/lookout.yaml'));
  });

  it('records the absolute config path and resolves storage against its directory', () => {
    expect(config.file).toBe(fixture('valid/config/lookout.yaml'));
    expect(config.storageDir).toBe(fixture('valid/data'));
    expect(config.catalogs).toEqual(['../probes/*.yaml']);
  });

  it('resolves catalog globs relative to the config file, in sorted order', () => {
    expect(config.targets.map((t) => [t.id, t.file])).toEqual([
      ['local-control-tcp', 'lookout.yaml'],
      ['kz-egov', '../probes/kz.yaml'],
      ['kz-dns', '../probes/kz.yaml'],
      ['kz-tcp', '../probes/kz.yaml'],
      ['kz-tls', '../probes/kz.yaml'],
      ['xx-control-tcp', '../probes/xx.yaml'],
      ['xx-web', '../probes/xx.yaml'],
    ]);
  });

  it('lets catalog targets inherit country, asn, category and control, and override them', () => {
    const byId = new Map(config.targets.map((t) => [t.id, t]));
    expect(byId.get('kz-egov')).toMatchObject({ country: 'KZ', asn: 64501, category: 'government', control: false });
    expect(byId.get('kz-tcp')).toMatchObject({ country: 'KZ', asn: 64502, category: 'government' });
    expect(byId.get('kz-tls')).toMatchObject({ category: 'streaming', interval: 60_000, timeout: 3_000 });
    expect(byId.get('xx-control-tcp')).toMatchObject({ country: 'FR', category: 'general', control: true });
    expect(byId.get('xx-web')).toMatchObject({ country: 'IT', category: 'general', control: false });
  });

  it('gives inline targets the vantage country', () => {
    expect(config.targets[0]).toMatchObject({ id: 'local-control-tcp', country: 'DE', control: true });
  });

  it('parses durations into milliseconds', () => {
    expect(config.schedule).toEqual({ interval: 30_000, timeout: 5_000, concurrency: 16, confirm_delay: 2_000, adaptive: { enabled: false, max_per_second: 20, group_budget: 32 } });
  });
});

describe('loadConfig: defaults', () => {
  it('fills schedule, server, storage and detection defaults', async () => {
    const config = await loadConfig(await tree({ 'lookout.yaml': 'vantage: { id: test-1 }\n' }));
    expect(config.schedule).toEqual({ interval: 60_000, timeout: 10_000, concurrency: 256, confirm_delay: 5_000, adaptive: { enabled: false, max_per_second: 20, group_budget: 32 } });
    expect(config.server).toEqual({ listen: '0.0.0.0:9464', admin_token: null });
    expect(config.storageDir).toBe(join(dirname(config.file), 'data'));
    expect(config.detection.down_after).toBe(2);
    expect(config.targets).toEqual([]);
    expect(config.catalogs).toEqual([]);
  });

  it('defaults category to general and control to false', async () => {
    const config = await loadConfig(
      await tree({ 'lookout.yaml': `${VANTAGE}targets: [{ id: t, kind: tcp, host: 127.0.0.1, port: 9 }]\n` }),
    );
    expect(config.targets[0]).toMatchObject({ country: 'DE', category: 'general', control: false, file: 'lookout.yaml' });
  });
});

describe('loadConfig: problems', () => {
  it('reports exactly the five mistakes of the fixture, each with its path, in file order', async () => {
    expect(await problemsOf(fixture('five-mistakes/config/lookout.yaml'))).toEqual([
      'detection.baseline_window: invalid duration "6 hours": use a positive number with ms, s, m or h (500ms, 10s, 5m, 1h)',
      'schedule.timout: unknown key (did you mean "timeout"?)',
      'targets.0 (local-tcp).country: required: set country on the target or vantage.country',
      '../probes/a.yaml: targets.0 (kz-web).url: must be an http:// or https:// URL',
      '../probes/b.yaml: targets.1 (kz-dns): duplicate id, first defined in ../probes/a.yaml targets.1',
    ]);
  });

  it('throws a ConfigError whose message lists the problems', async () => {
    const err = await loadConfig(fixture('five-mistakes/config/lookout.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('LOOKOUT_CONFIG_INVALID');
    expect((err as ConfigError).message).toContain('  schedule.timout: unknown key (did you mean "timeout"?)\n');
  });

  it('reports malformed YAML as file:line:col', async () => {
    const file = fixture('broken/malformed.yaml');
    expect(await problemsOf(file)).toEqual([
      `${file}:4:1: Flow map in block collection must be sufficiently indented and end with a }`,
    ]);
  });

  it('reports duplicate YAML keys at the second key', async () => {
    const file = fixture('broken/duplicate-keys.yaml');
    expect(await problemsOf(file)).toEqual([`${file}:4:3: Map keys must be unique`]);
  });

  it('reports an empty file', async () => {
    const file = fixture('broken/empty.yaml');
    expect(await problemsOf(file)).toEqual([`${file}: file is empty, expected a YAML mapping of keys to values`]);
  });

  it('reports a file that holds a list instead of a mapping', async () => {
    const file = fixture('broken/list.yaml');
    expect(await problemsOf(file)).toEqual([`${file}: expected a YAML mapping of keys to values, found a list`]);
  });

  it('reports a missing file with the system error', async () => {
    const file = fixture('broken/absent.yaml');
    expect(await problemsOf(file)).toEqual([
      `${file}: cannot read: ENOENT: no such file or directory, open '${file}'`,
    ]);
  });

  it('names the file as given, relative or not', async () => {
    const given = relative(process.cwd(), fixture('broken/list.yaml'));
    expect(await problemsOf(given)).toEqual([`${given}: expected a YAML mapping of keys to values, found a list`]);
  });

  it('reports a glob that matches nothing', async () => {
    const file = await tree({ 'lookout.yaml': `${VANTAGE}catalogs: ["probes/*.yaml", "../probes/*.yml"]\n`, 'probes/a.yaml': 'country: KZ\n' });
    expect(await problemsOf(file)).toEqual([`catalogs.1: "../probes/*.yml" matches no file in ${dirname(file)} (globs are relative to the config file's folder)`]);
  });

  it('loads a catalog matched by two globs once', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}catalogs: ["probes/*.yaml", "probes/a.yaml"]\n`,
      'probes/a.yaml': 'country: KZ\ntargets: [{ id: t, kind: tcp, host: 127.0.1.1, port: 9 }]\n',
    });
    expect((await loadConfig(file)).targets.map((t) => t.id)).toEqual(['t']);
  });

  it('reports problems of every file together: syntax errors of a catalog are prefixed with its name', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}schedule: { intervl: 5s }\ncatalogs: ["probes/*.yaml"]\n`,
      'probes/a.yaml': 'country: KZ\ncountry: KG\n',
      'probes/b.yaml': 'country: kz\n',
    });
    expect(await problemsOf(file)).toEqual([
      'schedule.intervl: unknown key (did you mean "interval"?)',
      'probes/a.yaml:2:1: Map keys must be unique',
      'probes/b.yaml: country: "kz": country codes are upper case (KZ)',
    ]);
  });

  it('does not blame targets for a missing country when the catalog country itself is invalid', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}catalogs: ["probes/*.yaml"]\n`,
      'probes/kz.yaml': 'country: Kazakhstan\ntargets: [{ id: t, kind: tcp, host: 127.0.1.1, port: 9 }]\n',
    });
    expect(await problemsOf(file)).toEqual([
      'probes/kz.yaml: country: "Kazakhstan" is not an ISO 3166-1 alpha-2 country code such as KZ (ZZ: no country)',
    ]);
  });

  it('asks for a country on catalog targets when neither target nor catalog has one', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}catalogs: ["probes/*.yaml"]\n`,
      'probes/kz.yaml': 'targets: [{ id: t, kind: tcp, host: 127.0.1.1, port: 9 }]\n',
    });
    expect(await problemsOf(file)).toEqual([
      'probes/kz.yaml: targets.0 (t).country: required: set country on the target or at the top of the catalog',
    ]);
  });

  it('finds a duplicate id between inline targets and a catalog', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}catalogs: ["probes/*.yaml"]\ntargets: [{ id: t, kind: tcp, host: 127.0.0.1, port: 9 }]\n`,
      'probes/kz.yaml': 'country: KZ\ntargets: [{ id: t, kind: tcp, host: 127.0.1.1, port: 9 }]\n',
    });
    expect(await problemsOf(file)).toEqual(['probes/kz.yaml: targets.0 (t): duplicate id, first defined in lookout.yaml targets.0']);
  });

  it('checks every target even when one of them is invalid, and orders indices numerically', async () => {
    const targets = Array.from({ length: 11 }, (_, i) => `  - { id: t${i}, kind: tcp, host: 127.0.0.1, port: ${i === 2 || i === 10 ? 0 : 9} }`);
    const file = await tree({ 'lookout.yaml': `${VANTAGE}targets:\n${targets.join('\n')}\n` });
    expect(await problemsOf(file)).toEqual([
      'targets.2 (t2).port: Too small: expected number to be >=1',
      'targets.10 (t10).port: Too small: expected number to be >=1',
    ]);
  });

  it('explains an unknown kind and an invalid status range', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}targets:
  - { id: a, kind: ftp }
  - { id: b, kind: http, url: "http://127.0.0.1/", expect: { status: ok } }
  - { id: c, kind: http, url: "http://127.0.0.1/", expect: { status: [399, 200] } }
  - { kind: tcp, host: 127.0.0.1 }
`,
    });
    expect(await problemsOf(file)).toEqual([
      'targets.0 (a).kind: kind must be one of http, tcp, tls, dns, dot, doh, icmp',
      'targets.1 (b).expect.status: expected number or tuple, received string',
      'targets.2 (c).expect.status: status range must be [low, high] with low <= high',
      'targets.3.id: required (expected string)',
      'targets.3.port: required (expected number)',
    ]);
  });
});

describe('loadConfig: checks across fields', () => {
  it('requires schedule.timeout and confirm_delay below schedule.interval', async () => {
    const file = await tree({ 'lookout.yaml': `${VANTAGE}schedule: { interval: 10s, timeout: 10s, confirm_delay: 1m }\n` });
    expect(await problemsOf(file)).toEqual([
      'schedule.confirm_delay: 1m must be shorter than schedule.interval (10s)',
      'schedule.timeout: 10s must be shorter than schedule.interval (10s)',
    ]);
  });

  it('requires a target timeout below its effective interval', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}schedule: { interval: 30s, timeout: 5s, confirm_delay: 2s }
targets:
  - { id: a, kind: tcp, host: 127.0.0.1, port: 9, timeout: 30s }
  - { id: b, kind: tcp, host: 127.0.0.1, port: 9, interval: 4s }
  - { id: c, kind: tcp, host: 127.0.0.1, port: 9, interval: 1m, timeout: 2m }
  - { id: d, kind: tcp, host: 127.0.0.1, port: 9, interval: 1s, timeout: 500ms }
  - { id: ok, kind: tcp, host: 127.0.0.1, port: 9, interval: 1m, timeout: 20s }
`,
    });
    expect(await problemsOf(file)).toEqual([
      'targets.0 (a).timeout: 30s must be shorter than the interval (30s from schedule.interval)',
      'targets.1 (b).interval: 4s must be longer than the timeout (5s from schedule.timeout)',
      'targets.2 (c).timeout: 2m must be shorter than the interval (1m)',
      'targets.3 (d).interval: 1s must be longer than schedule.confirm_delay (2s)',
    ]);
  });

  it('rejects https-only fields on an http:// URL', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}targets:
  - { id: a, kind: http, url: "http://127.0.0.1/", sni: www.example.kz, insecure_skip_verify: true }
  - { id: b, kind: http, url: "https://127.0.0.1/", sni: www.example.kz, insecure_skip_verify: true }
`,
    });
    expect(await problemsOf(file)).toEqual([
      'targets.0 (a).insecure_skip_verify: only applies to https:// URLs',
      'targets.0 (a).sni: only applies to https:// URLs',
    ]);
  });

  it('allows dns expect.answers_in only for A and AAAA queries', async () => {
    const file = await tree({
      'lookout.yaml': `${VANTAGE}targets:
  - { id: a, kind: dns, server: "127.0.0.1:5353", query: { name: example.kz, type: MX }, expect: { answers_in: [127.0.0.0/8] } }
  - { id: b, kind: dns, server: "127.0.0.1:5353", query: { name: example.kz, type: AAAA }, expect: { answers_in: ["::1/128"] } }
`,
    });
    expect(await problemsOf(file)).toEqual(['targets.0 (a).expect.answers_in: only applies to A and AAAA queries (query.type is MX)']);
  });
});
