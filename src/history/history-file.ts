/**
 * The history kept across restarts: under `<storage.dir>/history/`, one append-only file per
 * UTC day (`YYYY-MM-DD.jsonl`), one line per finished minute:
 * `{"t":<minute start, ms>,"l":[[<key id>,<targets>,<up>,<latency ratio|null>],...]}` (key id:
 * see keyId). Files older than the history's window are deleted when a new day starts and on
 * open. A torn last line (a crash mid-append) or any unreadable line is skipped on reading.
 * Appends are serialised and never awaited by the caller; a failed write is logged and the
 * minute is lost (the live history still has it).
 */
import { appendFile, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { DIR_MODE, FILE_MODE } from '../store/event-store.js';
import { keyId, parseKeyId, type LineSample } from './aggregate.js';
import type { History, MinuteRecord } from './history.js';
import { DAY_MS, MINUTE_MS } from './window.js';

export const HISTORY_DIR = 'history';
const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

type StoredLine = [string, number, number, number | null];

export function encodeMinute(r: MinuteRecord): string {
  const l: StoredLine[] = r.lines.map((s) => [keyId(s.key), s.targets, s.up, s.latency_ratio === null ? null : Math.round(s.latency_ratio * 100) / 100]);
  return `${JSON.stringify({ t: r.t, l })}\n`;
}

/** Parses one stored line; null when it is not a well-formed minute. */
export function decodeMinute(text: string): MinuteRecord | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { t, l } = raw as { t?: unknown; l?: unknown };
  if (typeof t !== 'number' || !Number.isInteger(t) || t % MINUTE_MS !== 0 || !Array.isArray(l)) return null;
  const lines: LineSample[] = [];
  for (const item of l as unknown[]) {
    if (!Array.isArray(item) || item.length !== 4) return null;
    const [id, targets, up, latency] = item as unknown[];
    const key = typeof id === 'string' ? parseKeyId(id) : null;
    if (!key || !isCount(targets) || !isCount(up) || (latency !== null && typeof latency !== 'number')) return null;
    lines.push({ key, targets, up, latency_ratio: latency });
  }
  return { t, lines };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function dayOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

export class HistoryFile {
  private writing: Promise<void> = Promise.resolve();
  private day: string | null = null;
  private failed = false;

  private constructor(
    readonly dir: string,
    private readonly windowMs: number,
    private readonly log: Logger,
  ) {}

  /** Makes the folder, drops days past the window and loads the rest into `history`, oldest first. */
  static async open(storageDir: string, history: History, log: Logger, now: number): Promise<HistoryFile> {
    const dir = join(storageDir, HISTORY_DIR);
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const file = new HistoryFile(dir, history.minutes * MINUTE_MS, log);
    await file.prune(now);
    let minutes = 0;
    for (const name of await file.days()) {
      const text = await readFile(join(dir, name), 'utf8');
      for (const line of text.split('\n')) {
        const record = line === '' ? null : decodeMinute(line);
        if (record && record.t > now - file.windowMs) {
          history.load(record);
          minutes++;
        }
      }
    }
    if (minutes > 0) log.info({ dir, minutes }, 'history loaded');
    return file;
  }

  /** Queues the minute for appending; the caller does not wait. */
  append(record: MinuteRecord): void {
    const text = encodeMinute(record);
    const day = dayOf(record.t);
    this.writing = this.writing.then(async () => {
      try {
        if (day !== this.day) {
          if (this.day !== null) await this.prune(record.t);
          this.day = day;
        }
        await appendFile(join(this.dir, `${day}.jsonl`), text, { mode: FILE_MODE });
        if (this.failed) this.log.info({ dir: this.dir }, 'history file writable again');
        this.failed = false;
      } catch (err) {
        if (!this.failed) this.log.error({ err, dir: this.dir }, 'history minute could not be written');
        this.failed = true;
      }
    });
  }

  /** Resolves once every queued minute is written (or failed). */
  close(): Promise<void> {
    return this.writing;
  }

  private async days(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => DAY_FILE.test(n)).sort();
  }

  /** Deletes the day files wholly before the window that ends at `now`. */
  private async prune(now: number): Promise<void> {
    const oldest = dayOf(now - this.windowMs - DAY_MS);
    for (const name of await this.days()) {
      if (name.slice(0, 10) < oldest) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }
}
