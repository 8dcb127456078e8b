/**
 * The IODA outage list (ioda-outages-2018-2022.csv): a small RFC 4180 style CSV parser and the
 * typed rows the replay benchmark turns into simulated outages.
 *
 * Columns: id,begin_utc,end_utc,duration_min,country,scope,region,asn,cause. In the `as` rows of
 * this file the AS number sits in the `region` column and `asn` is empty, so the AS number is
 * read from `asn` when present, else from `region`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const OUTAGE_SCOPES = ['country', 'region', 'as'] as const;
export type OutageScope = (typeof OUTAGE_SCOPES)[number];

export interface OutageRow {
  id: string;
  /** Epoch milliseconds. */
  begin: number;
  /** Epoch milliseconds, > begin. */
  end: number;
  /** The name as written in the file (the simulation does not use it). */
  country: string;
  scope: OutageScope;
  region: string | null;
  asn: number | null;
  cause: string;
}

export { findRepoRoot } from '../common/repo.js';

/** The CSV path used when no --data is given: the copy kept in the repository (bench/data). */
export function defaultDataPath(repoRoot: string): string {
  return path.resolve(repoRoot, 'bench/data/ioda-outages-2018-2022.csv');
}

/**
 * Parses CSV text into records of fields. Fields may be quoted with "..."; inside quotes commas
 * and line breaks are data and "" is one quote. Accepts LF and CRLF line ends; a trailing line
 * break does not make an empty record. Throws on a quote that is opened and never closed, or a
 * quote in the middle of an unquoted field.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let line = 1;
  // true right after a quoted field closed: only a separator or a line end may follow.
  let closed = false;
  const endField = (): void => {
    record.push(field);
    field = '';
    closed = false;
  };
  const endRecord = (): void => {
    endField();
    records.push(record);
    record = [];
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"' && field === '' && !closed) {
      const start = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`csv: quoted field opened on line ${start} is never closed`);
        const c = text[i] as string;
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        field += c;
        i++;
      }
      closed = true;
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
    } else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      endRecord();
      i += ch === '\r' ? 2 : 1;
      line++;
    } else if (closed || ch === '"') {
      throw new Error(`csv: unexpected character ${JSON.stringify(ch)} on line ${line} (quote inside a field)`);
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || closed || record.length > 0) endRecord();
  return records;
}

const COLUMNS = ['id', 'begin_utc', 'end_utc', 'duration_min', 'country', 'scope', 'region', 'asn', 'cause'] as const;

/** Parses the outage CSV (header line first). Throws naming the line of a malformed row. */
export function parseOutages(text: string): OutageRow[] {
  const records = parseCsv(text);
  const header = records[0];
  if (!header) throw new Error('outages csv: empty file');
  const col = new Map(header.map((name, i) => [name.trim(), i]));
  for (const name of COLUMNS) if (!col.has(name)) throw new Error(`outages csv: missing column ${name}`);
  const get = (rec: string[], name: (typeof COLUMNS)[number]): string => (rec[col.get(name) as number] ?? '').trim();
  const rows: OutageRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r] as string[];
    if (rec.length === 1 && rec[0] === '') continue;
    const where = `outages csv record ${r + 1}`;
    if (rec.length !== header.length) throw new Error(`${where}: ${rec.length} fields, expected ${header.length}`);
    const scope = get(rec, 'scope');
    if (!(OUTAGE_SCOPES as readonly string[]).includes(scope)) throw new Error(`${where}: unknown scope "${scope}"`);
    const begin = Date.parse(get(rec, 'begin_utc'));
    const end = Date.parse(get(rec, 'end_utc'));
    if (!Number.isFinite(begin) || !Number.isFinite(end) || end <= begin) throw new Error(`${where}: bad begin/end`);
    const region = get(rec, 'region');
    const asnText = get(rec, 'asn') || (scope === 'as' ? region : '');
    const asn = /^\d+$/.test(asnText) ? Number(asnText) : null;
    if (scope === 'as' && asn === null) throw new Error(`${where}: as-scoped row without an AS number`);
    rows.push({
      id: get(rec, 'id'),
      begin,
      end,
      country: get(rec, 'country'),
      scope: scope as OutageScope,
      region: scope === 'as' || region === '' ? null : region,
      asn,
      cause: get(rec, 'cause'),
    });
  }
  return rows;
}

/** Reads and parses the outage CSV; the error names the path when it is missing. */
export function loadOutages(file: string): OutageRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the IODA outage list at ${file} (${(err as Error).message}); pass --data PATH`);
  }
  return parseOutages(text);
}
