import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { ConfigFile } from '../../../src/config/schema.js';
import { daemonConfig } from '../../../src/sim/run.js';
import { parseScenario, worldTargets } from '../../../src/sim/scenario.js';
import { layoutWorld, selectTargets } from '../../../src/sim/world.js';

const DIR = resolve(import.meta.dirname, '../../../scenarios');

function problems(text: string): string[] {
  try {
    parseScenario(text, 's.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const WORLD = `
world:
  countries:
    - code: KZ
      asns: [9198, 21299]
      targets:
        - { name: gov, kind: https, category: government, count: 2 }
        - { name: news, kind: http, category: news, asn: 21299, count: 2 }
    - code: US
      asns: [13335]
      targets: [{ name: stream, kind: tls, category: streaming, count: 3 }]
`;

describe('scenario files', () => {
  it.each(readdirSync(DIR).filter((f) => f.endsWith('.yaml')))('%s is valid and its daemon config passes the config schema', (file) => {
    const s = parseScenario(readFileSync(join(DIR, file), 'utf8'), file);
    const { targets } = layoutWorld(s);
    const config = ConfigFile.safeParse(daemonConfig(s, { targets }, '127.0.0.1:9464'));
    expect(config.success, JSON.stringify(config.error?.issues)).toBe(true);
    // Every address the world uses is loopback.
    expect(targets.every((t) => t.ip.startsWith('127.'))).toBe(true);
  });

  it('serves a located_in group from the other country\'s first ASN block, after nothing and before its own targets', () => {
    const world = WORLD.replace('        - { name: news, kind: http, category: news, asn: 21299, count: 2 }', '        - { name: news, kind: http, category: news, asn: 21299, count: 2 }\n        - { name: cdn, kind: https, category: news, located_in: US, count: 2 }');
    const s = parseScenario(`name: t\nduration: 30s\n${world}`, 's.yaml');
    const { targets } = layoutWorld(s);
    const cdn = targets.filter((t) => t.id.startsWith('kz-cdn'));
    expect(cdn.map((t) => [t.id, t.country, t.asn, t.located, t.ip])).toEqual([
      ['kz-cdn-1', 'KZ', null, { country: 'US', asn: 13335 }, '127.10.1.1'],
      ['kz-cdn-2', 'KZ', null, { country: 'US', asn: 13335 }, '127.10.1.2'],
    ]);
    expect(targets.find((t) => t.id === 'us-stream-1')?.ip).toBe('127.10.1.3');
    // A fault on a country hits the addresses in it: the CDN edges go with US, not with KZ.
    expect(selectTargets(targets, { country: 'KZ' }, undefined).map((t) => t.id)).not.toContain('kz-cdn-1');
    expect(selectTargets(targets, { country: 'US' }, undefined).map((t) => t.id)).toContain('kz-cdn-1');
    expect(selectTargets(targets, { asn: 13335 }, undefined).map((t) => t.id)).toContain('kz-cdn-2');
    // The daemon sees what an operator would write: country KZ, no ASN.
    const config = daemonConfig(s, { targets }, '127.0.0.1:9464') as { targets: { id: string; country: string; asn?: number }[]; geo: unknown };
    expect(config.targets.find((t) => t.id === 'kz-cdn-1')).toMatchObject({ country: 'KZ' });
    expect(config.targets.find((t) => t.id === 'kz-cdn-1')?.asn).toBeUndefined();
    expect(config.geo).toEqual({ country_db: null, asn_db: null });
  });

  it('rejects a located_in group with an ASN, at home or in no country of the world', () => {
    const bad = (line: string): string[] =>
      problems(`name: t\nduration: 30s\n${WORLD.replace('        - { name: gov, kind: https, category: government, count: 2 }', line)}`);
    expect(bad('        - { name: cdn, kind: https, category: news, located_in: US, asn: 13335 }')).toContain(
      's.yaml: world.countries.0.targets.0.asn: a target group located_in another country declares no ASN',
    );
    expect(bad('        - { name: cdn, kind: https, category: news, located_in: KZ }')).toContain('s.yaml: world.countries.0.targets.0.located_in: must be another country than KZ');
    expect(bad('        - { name: cdn, kind: https, category: news, located_in: DE }')).toContain('s.yaml: world.countries.0.targets.0.located_in: DE is not a country of the world');
  });

  it('hands the scenario\'s databases to the daemon as absolute paths', () => {
    const file = join(DIR, 'cdn-abroad.yaml');
    const s = parseScenario(readFileSync(file, 'utf8'), file);
    const config = daemonConfig(s, layoutWorld(s), '127.0.0.1:9464') as { geo: unknown };
    expect(config.geo).toEqual({ country_db: join(DIR, 'geo/cdn-abroad.mmdb'), asn_db: join(DIR, 'geo/cdn-abroad.mmdb') });
  });

  it('names targets per country and lays them out per ASN', () => {
    const s = parseScenario(`name: t\nduration: 30s\n${WORLD}`, 's.yaml');
    expect(worldTargets(s).map((t) => `${t.id}@${t.asn}#${t.host}`)).toEqual([
      'kz-gov-1@9198#1',
      'kz-gov-2@9198#2',
      'kz-news-1@21299#1',
      'kz-news-2@21299#2',
      'us-stream-1@13335#1',
      'us-stream-2@13335#2',
      'us-stream-3@13335#3',
    ]);
    const { targets } = layoutWorld(s);
    expect(targets.find((t) => t.id === 'kz-news-2')?.ip).toBe('127.10.0.66');
    expect(targets.filter((t) => t.control).map((t) => t.ip)).toEqual(['127.1.0.1', '127.1.0.2', '127.1.0.3']);
  });

  it('selects international targets (controls included) from a vantage in KZ', () => {
    const s = parseScenario(`name: t\nduration: 30s\nvantage: { country: KZ }\n${WORLD}`, 's.yaml');
    const { targets } = layoutWorld(s);
    expect(selectTargets(targets, { international: true }, 'KZ').map((t) => t.id)).toEqual([
      'control-1',
      'control-2',
      'control-3',
      'us-stream-1',
      'us-stream-2',
      'us-stream-3',
    ]);
    expect(selectTargets(targets, { country: 'KZ', asn: 21299 }, 'KZ').map((t) => t.id)).toEqual(['kz-news-1', 'kz-news-2']);
  });

  it('reports every problem with its path', () => {
    const text = `name: t
duration: 30s
vantage: { country: DE }
schedule: { interval: 1s, timeout: 2s }
${WORLD}
faults:
  - { id: cut, at: 20s, for: 20s, fault: blackhole, scope: { country: FR } }
  - { id: cut, at: 5s, fault: throttle, delay: 3s, scope: { target: kz-gov-9 } }
  - { at: 1s, fault: melt, scope: { country: KZ } }
expect:
  - { kind: shutdown, cause: nope, within: 5s }
  - { kind: vantage_offline, country: KZ }
surprise: true
`;
    expect(problems(text)).toEqual(expect.arrayContaining([
      's.yaml: surprise: unknown key',
    ]));
    const valid = text.replace('surprise: true\n', '').replace(/ {2}- \{ at: 1s, fault: melt.*\n/, '');
    expect(problems(valid)).toEqual([
      's.yaml: vantage.country: DE is not a country of the world',
      's.yaml: schedule.timeout: must be shorter than schedule.interval',
      "s.yaml: faults.0.for: ends after the scenario's duration (30s)",
      's.yaml: faults.0.scope: FR is not a country of the world',
      's.yaml: faults.1.id: fault id cut appears twice',
      's.yaml: faults.1.scope: no target kz-gov-9 in the world',
      's.yaml: faults.1.delay: must be shorter than schedule.timeout (a delay past it is a blackhole)',
      's.yaml: expect.0.cause: no fault has id nope',
      's.yaml: expect.0.country: required',
      "s.yaml: expect.1.country: vantage_offline is about the vantage's own country, DE",
    ]);
    expect(problems(text.replace('surprise: true\n', ''))).toContainEqual(expect.stringMatching(/^s\.yaml: faults\.2\.fault: must be one of blackhole, /));
  });

  it('hostile faults: a known behaviour on targets it acts on; otherwise the field is named', () => {
    const base = `name: s\n${WORLD}duration: 30s\nfaults:\n`;
    const ok = parseScenario(`${base}  - { at: 1s, fault: hostile, behaviour: http_garbage, scope: { category: news } }\n`, 's.yaml');
    expect(ok.faults[0]).toMatchObject({ id: 'hostile-1', fault: 'hostile', behaviour: 'http_garbage' });
    expect(parseScenario(`${base}  - { at: 1s, fault: hostile, behaviour: tls_garbage, scope: { controls: true } }\n`, 's.yaml').faults).toHaveLength(1);
    expect(problems(`${base}  - { at: 1s, fault: hostile, behaviour: http_garbage, scope: { country: US } }\n`)).toEqual([
      's.yaml: faults.0.behaviour: http_garbage acts on http, https targets; the scope has none',
    ]);
    expect(problems(`${base}  - { at: 1s, fault: hostile, behaviour: melt, scope: { country: US } }\n`)).toEqual([
      expect.stringMatching(/^s\.yaml: faults\.0\.behaviour: must be one of http_slow_headers, .*dns_huge$/),
    ]);
  });

  it('an alias without its anchor, or alias abuse, is a problem, not an exception (found by the fuzzer)', () => {
    expect(problems('*D')).toEqual(['s.yaml: Unresolved alias (the anchor must be set before the alias): D']);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
    expect(problems(bomb)).toEqual([expect.stringMatching(/^s\.yaml: .*alias/i)]);
  });

  it('windows: become daemon windows at the second they start, in UTC; their problems are named', () => {
    const text = `name: w\nduration: 60s\n${WORLD}windows:\n  - { name: exam, kind: expected, reason: exam, countries: [KZ], at: 10s, for: 30s }\n  - { name: look, kind: watch, interval: 1s, at: 0s, for: 1m }\nexpect:\n  - { kind: shutdown, country: KZ, expected: exam, overran: true }\n`;
    const s = parseScenario(text, 's.yaml');
    const zero = Date.UTC(2027, 5, 1, 5, 59, 55, 400);
    const config = daemonConfig(s, layoutWorld(s), '127.0.0.1:9464', zero);
    expect(config.windows).toEqual([
      { name: 'exam', kind: 'expected', cron: '6 0 6 1 6 *', duration: '30s', timezone: 'UTC', countries: ['KZ'], reason: 'exam' },
      { name: 'look', kind: 'watch', cron: '56 59 5 1 6 *', duration: '1m', timezone: 'UTC', countries: [], interval: '1s' },
    ]);
    expect(ConfigFile.safeParse(config).success).toBe(true);
    expect(
      problems(`name: w\nduration: 60s\n${WORLD}windows:\n  - { name: a, kind: watch, countries: [FR], at: 70s, for: 10s }\n  - { name: a, kind: maintenance, reason: exam, interval: 1s, at: 0s, for: 10s }\nexpect:\n  - { kind: shutdown, country: KZ, expected: a }\n  - { kind: shutdown, country: US, overran: true }\n`),
    ).toEqual([
      's.yaml: windows.0.countries: FR is not a country of the world',
      's.yaml: windows.0.interval: a watch window needs an interval',
      "s.yaml: windows.0.at: starts after the scenario's duration (60s)",
      's.yaml: windows.1.name: window name a appears twice',
      's.yaml: windows.1.interval: only a watch window has an interval',
      's.yaml: windows.1.reason: only an expected window has a reason',
      's.yaml: expect.0.expected: no expected window is named a',
      's.yaml: expect.1.overran: needs expected (the window it overran)',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(problems('name: t\nduration: [\n')).toEqual([expect.stringMatching(/^s\.yaml:\d+:\d+: /)]);
  });
});
