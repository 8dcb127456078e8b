/**
 * Reads the event log of a storage dir without owning it (for `lookout report` and `simulate
 * --report`, which may run beside the daemon): every rotated file, oldest first, then
 * events.jsonl; the last snapshot of each id wins. Nothing is written or truncated.
 */
import { join } from 'node:path';
import { compareTimeline, type DisruptionEvent } from '../detect/events.js';
import type { Logger } from '../log.js';
import { readEventFile } from './event-file.js';
import { CURRENT_FILE, listRotated, rotatedFile } from './rotation.js';

/** The stored events in timeline order; none when the directory does not exist. Rejects for I/O errors. */
export async function readStoredEvents(dir: string, log: Logger): Promise<DisruptionEvent[]> {
  let rotated: number[];
  try {
    rotated = await listRotated(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const latest = new Map<string, DisruptionEvent>();
  for (const file of [...rotated.map((n) => rotatedFile(n)), CURRENT_FILE]) {
    for (const event of (await readEventFile(join(dir, file), log)).events) latest.set(event.id, event);
  }
  return [...latest.values()].sort(compareTimeline);
}
