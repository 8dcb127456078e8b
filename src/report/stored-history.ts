/**
 * The stored 1-minute history of a storage dir, read without owning it (for `lookout report`,
 * which may run beside the daemon): only the day files (src/history/history-file.ts) that
 * overlap the asked window are read, nothing is pruned or written. Unreadable lines are skipped,
 * as the daemon skips them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { decodeMinute, HISTORY_DIR } from '../history/history-file.js';
import { History } from '../history/history.js';
import type { SeriesQuery, SeriesReader } from '../history/types.js';
import { MINUTE_MS } from '../history/window.js';

/** A reader of the minutes in [from, to) stored under config.storageDir; empty when none are. */
export async function openStoredHistory(config: Pick<Config, 'storageDir'>, range: { from: number; to: number }, only?: readonly Omit<SeriesQuery, 'from' | 'to'>[]): Promise<SeriesReader> {
  const dir = join(config.storageDir, HISTORY_DIR);
  const history = new History({ minutes: Math.ceil((range.to - range.from) / MINUTE_MS) + 1 });
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return history;
    throw err;
  }
  const firstDay = new Date(range.from).toISOString().slice(0, 10);
  const lastDay = new Date(range.to - 1).toISOString().slice(0, 10);
  for (const name of names) {
    const day = name.slice(0, 10);
    if (day < firstDay || day > lastDay) continue;
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      const record = line === '' ? null : decodeMinute(only === undefined ? line : keptLines(line, only));
      if (record && record.t >= range.from && record.t < range.to) history.load(record);
    }
  }
  return history;
}

/**
 * A stored minute with only the lines `only` asks for (the rest never decoded): a report needs
 * one country of the hundreds a minute holds. Malformed text is passed on for decodeMinute to refuse.
 */
function keptLines(text: string, only: readonly Omit<SeriesQuery, 'from' | 'to'>[]): string {
  let raw: { t?: unknown; l?: unknown };
  try {
    raw = JSON.parse(text) as { t?: unknown; l?: unknown };
  } catch {
    return text;
  }
  if (typeof raw !== 'object' || raw === null || !Array.isArray(raw.l)) return text;
  const wanted = (item: unknown): boolean => {
    if (!Array.isArray(item) || typeof item[0] !== 'string') return true;
    const [path, country, asn, category] = item[0].split('|');
    return only.some((q) => (q.path === undefined || q.path === path) && (q.country === undefined || q.country === country) && (q.asn === undefined || String(q.asn) === asn) && (q.category === undefined || q.category === category));
  };
  return JSON.stringify({ t: raw.t, l: (raw.l as unknown[]).filter(wanted) });
}
