/**
 * Which countries cut their own internet most: the government-ordered outages of the IODA list
 * (bench/data/ioda-outages-2018-2022.csv, `cause` = Government-Ordered), counted per country.
 * The ten at the top are the countries Lookout ships catalogs for (probes/countries/).
 *
 * Ranking: most government-ordered outages first; ties broken by their total duration (longer
 * first), then by name. Rows of every scope count (country, region, AS): each is one order.
 */
import { parseCsv } from '../replay/ioda.js';

/** IODA's country names (as written in the list) to ISO 3166-1 alpha-2 codes. */
export const COUNTRY_CODES: Readonly<Record<string, string>> = {
  'Myanmar/Burma': 'MM',
  Iraq: 'IQ',
  Sudan: 'SD',
  Ethiopia: 'ET',
  'Democratic Republic of (DRC)': 'CD',
  Zimbabwe: 'ZW',
  Benin: 'BJ',
  India: 'IN',
  Niger: 'NE',
  Iran: 'IR',
  Mauritania: 'MR',
  Uganda: 'UG',
  Gabon: 'GA',
  Congo: 'CG',
  'Sierra Leone': 'SL',
  Cuba: 'CU',
  Bangladesh: 'BD',
  Cameroon: 'CM',
};

export interface ShutdownCount {
  /** As written in the list. */
  country: string;
  /** ISO code, null when COUNTRY_CODES does not know the name. */
  code: string | null;
  outages: number;
  minutes: number;
}

/** Counts the government-ordered outages per country, ranked (see the module comment). */
export function countGovernmentOrdered(csvText: string): ShutdownCount[] {
  const [header, ...rows] = parseCsv(csvText);
  if (!header) throw new Error('the outage list is empty');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`the outage list has no "${name}" column`);
    return i;
  };
  const [country, cause, minutes] = [col('country'), col('cause'), col('duration_min')];
  const byCountry = new Map<string, ShutdownCount>();
  for (const row of rows) {
    if ((row[cause] ?? '').toLowerCase() !== 'government-ordered') continue;
    const name = row[country] ?? '';
    const entry = byCountry.get(name) ?? { country: name, code: COUNTRY_CODES[name] ?? null, outages: 0, minutes: 0 };
    entry.outages++;
    entry.minutes += Number(row[minutes] ?? 0) || 0;
    byCountry.set(name, entry);
  }
  return [...byCountry.values()].sort((a, b) => b.outages - a.outages || b.minutes - a.minutes || a.country.localeCompare(b.country));
}

/** The table the script prints. */
export function formatCounts(counts: readonly ShutdownCount[], top: number): string {
  const lines = ['rank  code  outages  minutes  country'];
  counts.forEach((c, i) => {
    const mark = i === top - 1 ? '\n---- (catalogs ship for the ranks above) ----' : '';
    lines.push(`${String(i + 1).padStart(4)}  ${(c.code ?? '??').padEnd(4)}  ${String(c.outages).padStart(7)}  ${String(c.minutes).padStart(7)}  ${c.country}${mark}`);
  });
  return lines.join('\n');
}
