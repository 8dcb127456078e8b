import { readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The file new events are appended to. */
export const CURRENT_FILE = 'events.jsonl';

/** Name of rotated generation n (1 is the most recent) of `<base>.jsonl`. */
export function rotatedFile(n: number, base = 'events'): string {
  return `${base}.${n}.jsonl`;
}

/** Rotated generations present in dir, oldest (highest number) first. */
export async function listRotated(dir: string, base = 'events'): Promise<number[]> {
  const names = await readdir(dir);
  const rotated = new RegExp(`^${base}\\.(\\d+)\\.jsonl$`);
  const gens: number[] = [];
  for (const name of names) {
    const m = rotated.exec(name);
    if (m?.[1] !== undefined) gens.push(Number(m[1]));
  }
  return gens.sort((a, b) => b - a);
}

/**
 * Shifts events.jsonl -> events.1.jsonl -> events.2.jsonl ... (or `<base>.jsonl` ...) and
 * deletes every generation that would end up beyond maxFiles. Oldest first, so a rename never
 * overwrites a file still needed. Afterwards `<base>.jsonl` no longer exists.
 */
export async function shiftFiles(dir: string, maxFiles: number, base = 'events'): Promise<void> {
  for (const n of await listRotated(dir, base)) {
    if (n >= maxFiles) await unlink(join(dir, rotatedFile(n, base)));
    else await rename(join(dir, rotatedFile(n, base)), join(dir, rotatedFile(n + 1, base)));
  }
  await rename(join(dir, `${base}.jsonl`), join(dir, rotatedFile(1, base)));
}
