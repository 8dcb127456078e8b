/**
 * Keeps the replay benchmark (bench/replay) from rotting: the CSV parser, the generator's
 * contract, the timed driver against replay(), and a tiny end-to-end run (3 outage rows, 1 quiet
 * day, a 1-country throughput world) producing a well-formed report. No timing or goal
 * assertions: the figures themselves are the benchmark's business.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { replay } from '../../../src/detect/replay.js';
import type { ProbeResult } from '../../../src/probers/types.js';
import { detectorOptions, runBench, type BenchReport } from '../../../bench/replay/bench.js';
import { DEFAULT_NOISE, generateResults, generateRun, observedAt } from '../../../bench/replay/generate.js';
import { defaultDataPath, findRepoRoot, loadOutages, parseCsv, parseOutages, type OutageRow } from '../../../bench/replay/ioda.js';
import { formatReport } from '../../../bench/replay/table.js';
import { buildWorld } from '../../../bench/replay/world.js';

const HOUR = 3_600_000;

function csvPath(): string {
  const file = defaultDataPath(findRepoRoot(path.dirname(fileURLToPath(import.meta.url))));
  if (!existsSync(file)) {
    throw new Error(`the IODA outage list is missing: expected ${file} (bench/data/ in the repository)`);
  }
  return file;
}

describe('parseCsv', () => {
  it('keeps commas inside quoted fields', () => {
    expect(parseCsv('a,"Bonaire, Sint Eustatius and Saba",c\n')).toEqual([['a', 'Bonaire, Sint Eustatius and Saba', 'c']]);
  });

  it('reads doubled quotes, line breaks inside quotes, CRLF and empty fields', () => {
    expect(parseCsv('x,"say ""hi""",\r\n"two\nlines",,z')).toEqual([
      ['x', 'say "hi"', ''],
      ['two\nlines', '', 'z'],
    ]);
  });

  it('rejects an unclosed quote and a quote inside an unquoted field', () => {
    expect(() => parseCsv('a,"open\n')).toThrow(/never closed/);
    expect(() => parseCsv('a,b"c\n')).toThrow(/quote inside a field/);
    expect(() => parseCsv('"a"b\n')).toThrow(/quote inside a field/);
  });
});

describe('parseOutages', () => {
  const header = 'id,begin_utc,end_utc,duration_min,country,scope,region,asn,cause\n';

  it('parses quoted country names and reads the AS number of as rows from the region column', () => {
    const rows = parseOutages(
      header +
        '2045E724,2020-05-01T07:10:00Z,2020-05-01T08:00:00Z,50,"Bonaire, Sint Eustatius and Saba",country,,,Unlabelled\n' +
        'A19D6347,2019-09-17T10:00:00Z,2019-09-17T11:00:00Z,60,Singapore,as,10091,,Misc-Routing-Problem\n' +
        '61AE093F,2021-03-17T16:40:00Z,2021-03-17T17:40:00Z,60,South Sudan,region,Central Equitoria,,Unknown\n',
    );
    expect(rows).toEqual([
      { id: '2045E724', begin: Date.UTC(2020, 4, 1, 7, 10), end: Date.UTC(2020, 4, 1, 8, 0), country: 'Bonaire, Sint Eustatius and Saba', scope: 'country', region: null, asn: null, cause: 'Unlabelled' },
      { id: 'A19D6347', begin: Date.UTC(2019, 8, 17, 10), end: Date.UTC(2019, 8, 17, 11), country: 'Singapore', scope: 'as', region: null, asn: 10091, cause: 'Misc-Routing-Problem' },
      { id: '61AE093F', begin: Date.UTC(2021, 2, 17, 16, 40), end: Date.UTC(2021, 2, 17, 17, 40), country: 'South Sudan', scope: 'region', region: 'Central Equitoria', asn: null, cause: 'Unknown' },
    ]);
  });

  it('names the record of a malformed row', () => {
    expect(() => parseOutages(header + 'X,2020-05-01T07:10:00Z,2020-05-01T08:00:00Z,50,Y,planet,,,Z\n')).toThrow(/record 2: unknown scope/);
    expect(() => parseOutages(header + 'X,2020-05-01T09:10:00Z,2020-05-01T08:00:00Z,50,Y,country,,,Z\n')).toThrow(/record 2: bad begin\/end/);
  });

  it('reads the real file: every row has a known scope, country rows include the quoted one', () => {
    const rows = loadOutages(csvPath());
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.scope === 'as').every((r) => r.asn !== null)).toBe(true);
    expect(rows.some((r) => r.country === 'Bonaire, Sint Eustatius and Saba')).toBe(true);
  });
});

describe('generateResults', () => {
  const world = buildWorld({ seed: 7 });
  const kz = world.asns.get('KZ') as number[];
  const from = Date.UTC(2022, 0, 1);
  const blackout = { country: 'KZ', asn: kz[2] as number, from: from + HOUR, to: from + 2 * HOUR };
  const results = generateResults({ world, from, to: from + 3 * HOUR, blackouts: [blackout], seed: 3, phaseMs: 12_345 });

  it('is deterministic and ordered by observation time', () => {
    expect(generateResults({ world, from, to: from + 3 * HOUR, blackouts: [blackout], seed: 3, phaseMs: 12_345 })).toEqual(results);
    for (let i = 1; i < results.length; i++) expect(observedAt(results[i] as ProbeResult)).toBeGreaterThanOrEqual(observedAt(results[i - 1] as ProbeResult));
  });

  it('blackholes exactly the ASN in the window with kind timeouts and confirms 5 s after the result', () => {
    const inAsn = new Set(world.targets.filter((t) => t.target.asn === blackout.asn).map((t) => t.target.id));
    const inside = results.filter((r) => inAsn.has(r.target) && r.at >= blackout.from && r.at < blackout.to);
    expect(inside.length).toBeGreaterThan(0);
    for (const r of inside) {
      expect(r.ok).toBe(false);
      expect(r.reason).toBe(`${r.kind}_timeout`);
      expect(r.phases.total).toBe(10);
    }
    for (const c of inside.filter((r) => r.confirm === true)) {
      expect(inside.some((r) => r.target === c.target && r.confirm !== true && observedAt(r) + 5_000 === c.at)).toBe(true);
    }
  });

  it('probes adaptively through the daemon\'s policy: extra probes in the blackout, none without it, a target never overlapping itself', () => {
    const on = generateRun({ world, from, to: from + 3 * HOUR, blackouts: [blackout], seed: 3, phaseMs: 12_345 });
    const off = generateRun({ world, from, to: from + 3 * HOUR, blackouts: [blackout], seed: 3, phaseMs: 12_345, adaptive: false });
    expect(on.extra).toBeGreaterThan(0);
    expect(off.extra).toBe(0);
    expect(on.streams.flat().length).toBe(on.scheduled + on.extra);
    expect(off.streams.flat().length).toBe(off.scheduled);
    for (const stream of on.streams) {
      for (let i = 1; i < stream.length; i++) expect((stream[i] as ProbeResult).at).toBeGreaterThanOrEqual(observedAt(stream[i - 1] as ProbeResult));
    }
  });

  it('keeps controls out of blackouts and every address on loopback', () => {
    const controls = new Set(world.targets.filter((t) => t.role === 'control').map((t) => t.target.id));
    expect(controls.size).toBe(4);
    expect(world.targets.filter((t) => t.role !== 'control').length).toBeGreaterThanOrEqual(12);
    const countryWide = { country: 'KZ', asn: null, from: from + HOUR, to: from + 2 * HOUR };
    const noLoss = { ...DEFAULT_NOISE, loss: 0 };
    const rs = generateResults({ world, from, to: from + 3 * HOUR, blackouts: [countryWide], seed: 3, noise: noLoss });
    const ctl = rs.filter((r) => controls.has(r.target));
    expect(ctl.length).toBeGreaterThan(0);
    expect(ctl.every((r) => r.ok)).toBe(true);
    for (const r of rs) if (r.ip !== null) expect(r.ip.startsWith('127.')).toBe(true);
  });

  it('replay() times each change by the evaluation that returned it', () => {
    const opts = detectorOptions(world);
    const end = from + 3 * HOUR;
    const timed = replay(results, opts, end);
    expect(timed.length).toBeGreaterThan(0);
    const every = opts.detection.evaluate_every;
    for (const c of timed) expect(c.at % every === 0 || c.at === end).toBe(true);
    for (let i = 1; i < timed.length; i++) expect(timed[i]!.at).toBeGreaterThanOrEqual(timed[i - 1]!.at);
  });
});

describe('runBench (3 rows, 1 quiet day)', () => {
  it('produces a well-formed report and table', () => {
    const all = loadOutages(csvPath());
    const shortest = (scope: OutageRow['scope'], n: number): OutageRow[] =>
      all
        .filter((r) => r.scope === scope)
        .sort((a, b) => a.end - a.begin - (b.end - b.begin))
        .slice(0, n);
    const rows = [...shortest('country', 2), ...shortest('as', 1), ...shortest('region', 1)];
    const report: BenchReport = runBench({ rows, seed: 1, quietDays: 1, throughput: { countries: 1, days: 1, runs: 1 } });

    expect(report.csv).toEqual({ total: 4, country: 2, as: 1, regionSkipped: 1, limitedOut: 0 });
    expect(report.scopes.map((s) => [s.scope, s.rows])).toEqual([
      ['country', 2],
      ['as', 1],
    ]);
    for (const s of report.scopes) {
      expect(s.detected).toBeLessThanOrEqual(s.rows);
      expect(s.missed.length).toBe(s.rows - s.detected);
      expect(s.recall).toBe(s.detected / s.rows);
      for (const d of [s.onset, s.startError, s.durationError]) {
        if (d === null) continue;
        expect([d.median, d.p95, d.max].every(Number.isFinite)).toBe(true);
        expect(d.median).toBeLessThanOrEqual(d.p95);
        expect(d.n).toBeLessThanOrEqual(s.detected);
      }
    }
    const f = report.falseInOutageRuns;
    expect(Object.values(f.byKind).reduce((a, b) => a + b, 0)).toBe(f.count);
    expect(report.quiet.days).toBe(1);
    expect(report.quiet.results).toBeGreaterThan(0);
    expect(report.quiet.per30Days).toBe(report.quiet.opened * 30);
    expect(report.throughput).toHaveLength(2);
    for (const t of report.throughput) {
      expect(t.results).toBeGreaterThan(0);
      expect(Number.isFinite(t.resultsPerSecond) && t.resultsPerSecond > 0).toBe(true);
    }

    const text = formatReport(report);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Replay benchmark (seed 1)');
    expect(lines.some((l) => /^country\s+2\s+\d+\s+\d+\.\d\d%/.test(l))).toBe(true);
    expect(lines.some((l) => /^as\s+1\s+\d+\s+\d+\.\d\d%/.test(l))).toBe(true);
    expect(text).toContain('1 region rows skipped');
    expect(text).toMatch(/Quiet days: 1 days, [\d,]+ results, \d+ events opened/);
    expect(text).toMatch(/results\/s/);
  });
});
