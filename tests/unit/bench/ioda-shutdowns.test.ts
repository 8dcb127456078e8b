/**
 * The country catalogs follow the IODA list: the ten countries with the most government-ordered
 * outages in bench/data/ioda-outages-2018-2022.csv each have a catalog in probes/countries/,
 * and no other country does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { countGovernmentOrdered, formatCounts } from '../../../bench/ioda/shutdowns.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const csv = readFileSync(join(ROOT, 'bench/data/ioda-outages-2018-2022.csv'), 'utf8');

describe('government-ordered outages in the IODA list', () => {
  const counts = countGovernmentOrdered(csv);

  it('counts every government-ordered row once, ranked by count then duration', () => {
    const rows = csv.split(/\r?\n/).filter((l) => l.endsWith(',Government-Ordered')).length;
    expect(counts.reduce((n, c) => n + c.outages, 0)).toBe(rows);
    for (let i = 1; i < counts.length; i++) {
      const [a, b] = [counts[i - 1], counts[i]] as [(typeof counts)[0], (typeof counts)[0]];
      expect(a.outages > b.outages || (a.outages === b.outages && a.minutes >= b.minutes), `${a.country} before ${b.country}`).toBe(true);
    }
    expect(counts.every((c) => c.code !== null), 'every country name has its ISO code').toBe(true);
  });

  it('ships a catalog for exactly the top ten, each declaring its country', () => {
    const top = counts.slice(0, 10).map((c) => (c.code as string).toLowerCase());
    const files = readdirSync(join(ROOT, 'probes/countries')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect([...files].sort()).toEqual([...top].sort());
    for (const code of top) {
      const doc = parse(readFileSync(join(ROOT, 'probes/countries', `${code}.yaml`), 'utf8')) as { country?: string; targets?: unknown[] };
      expect(doc.country).toBe(code.toUpperCase());
      expect(doc.targets?.length, code).toBeGreaterThan(0);
    }
  });

  it('prints a ranked table with the cut after the tenth', () => {
    const lines = formatCounts(counts, 10).split('\n');
    expect(lines[0]).toBe('rank  code  outages  minutes  country');
    expect(lines[11]).toContain('catalogs ship for the ranks above');
  });
});
