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
 * A stored minute with only the lines `only` asks for, found by their key ids in the text (the
 * rest never parsed): a report needs one country of the hundreds a minute holds. Text of another
 * shape, or a query by neither country nor category, is passed on whole for decodeMinute.
 */
function keptLines(text: string, only: readonly Omit<SeriesQuery, 'from' | 'to'>[]): string {
  const head = /^\{"t":(\d+),"l":\[/.exec(text);
  if (!head || only.some((q) => q.country === undefined && q.category === undefined)) return text;
  const items = new Set<string>();
  for (const q of only) {
    const path = JSON.stringify(q.path ?? '').slice(1, -1);
    const needle = q.country !== undefined ? `["${path}|${q.country}|` : `|${JSON.stringify(q.category).slice(1, -1)}",`;
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
      const start = q.country !== undefined ? at : text.lastIndexOf('["', at);
      const end = text.indexOf(']', at);
      if (start === -1 || end === -1) return text;
      const item = text.slice(start, end + 1);
      if (q.path === undefined || item.startsWith(`["${path}|`)) items.add(item);
    }
  }
  return `{"t":${head[1]},"l":[${[...items].join(',')}]}`;
}
