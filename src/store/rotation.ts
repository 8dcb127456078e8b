import { readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The file new events are appended to. */
export const CURRENT_FILE = 'events.jsonl';

/** Name of rotated generation n (1 is the most recent). */
export function rotatedFile(n: number): string {
  return `events.${n}.jsonl`;
}

const ROTATED = /^events\.(\d+)\.jsonl$/;

/** Rotated generations present in dir, oldest (highest number) first. */
export async function listRotated(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  const gens: number[] = [];
  for (const name of names) {
    const m = ROTATED.exec(name);
    if (m?.[1] !== undefined) gens.push(Number(m[1]));
  }
  return gens.sort((a, b) => b - a);
}

/**
 * Shifts events.jsonl -> events.1.jsonl -> events.2.jsonl ... and deletes every generation that
 * would end up beyond maxFiles. Oldest first, so a rename never overwrites a file still needed.
 * Afterwards events.jsonl no longer exists.
 */
export async function shiftFiles(dir: string, maxFiles: number): Promise<void> {
  for (const n of await listRotated(dir)) {
    if (n >= maxFiles) await unlink(join(dir, rotatedFile(n)));
    else await rename(join(dir, rotatedFile(n)), join(dir, rotatedFile(n + 1)));
  }
  await rename(join(dir, CURRENT_FILE), join(dir, rotatedFile(1)));
}
