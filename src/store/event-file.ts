import { readFile } from 'node:fs/promises';
import type { DisruptionEvent } from '../detect/events.js';
import type { Logger } from '../log.js';
import { parseEvent } from './event-schema.js';

/** Bad lines logged one by one per file; beyond that only a count, so a corrupt file cannot flood the log. */
const MAX_LINE_WARNINGS = 10;

/** What one event log file held. */
export interface EventFileContent {
  /** Valid snapshots in file order. */
  events: DisruptionEvent[];
  /** Byte length of the complete lines; shorter than the file when the last line was torn. */
  completeBytes: number;
  /** True when the file ended in a partial line (a write cut short by a crash). */
  torn: boolean;
}

/**
 * Reads one JSONL event log. A missing file reads as empty. A last line without its newline is a
 * torn write: it is skipped with a warning. Any other line that is not a valid event is skipped
 * with a warning naming the file and line number. Rejects only for I/O errors, never for content.
 */
export async function readEventFile(file: string, log: Logger): Promise<EventFileContent> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], completeBytes: 0, torn: false };
    throw err;
  }
  const lastNewline = data.lastIndexOf(0x0a);
  const completeBytes = lastNewline + 1;
  const torn = completeBytes < data.length;
  const lines = data.subarray(0, completeBytes).toString('utf8').split('\n');
  lines.pop(); // the empty string after the final newline

  const events: DisruptionEvent[] = [];
  let bad = 0;
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const result = parseLine(text);
    if (result.ok) {
      events.push(result.event);
      return;
    }
    bad++;
    if (bad <= MAX_LINE_WARNINGS) log.warn({ file, line: i + 1, error: result.message }, 'event log line skipped');
  });
  if (bad > MAX_LINE_WARNINGS) log.warn({ file, skipped: bad }, 'event log lines skipped');
  if (torn) log.warn({ file, line: lines.length + 1, bytes: data.length - completeBytes }, 'torn last line in event log skipped');
  return { events, completeBytes, torn };
}

function parseLine(text: string): ReturnType<typeof parseEvent> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'not JSON' };
  }
  return parseEvent(value);
}
