/**
 * What block probing learned, kept under storage.dir/blocks/state.json so that a restart does
 * not start over: each block's responsive addresses E(b) and availability, and the round-end
 * samples of the ordinary level. Written whole to a temporary file and renamed (a crash leaves
 * the old file or the new one, never half of one). An unreadable or malformed file is reported
 * and ignored: discovery starts over, nothing fails.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { HistoryData } from './signals.js';

const Known = z.object({
  /** E(b) as last octets. */
  e: z.array(z.number().int().min(0).max(255)),
  a: z.number().min(0).max(1),
  n: z.number().int().min(0),
});
export type KnownBlock = z.output<typeof Known>;

const StateFile = z.object({
  version: z.literal(1),
  saved_at: z.number(),
  blocks: z.record(z.string().regex(/^\d+$/), Known),
  history: z.record(z.string(), z.array(z.tuple([z.number(), z.number()]))),
});

export interface StoredState {
  /** By block number. */
  blocks: Map<number, KnownBlock>;
  history: HistoryData;
}

export class BlockStore {
  readonly path: string;

  constructor(storageDir: string) {
    this.path = join(storageDir, 'blocks', 'state.json');
  }

  /** The stored state; empty when there is none. `problem` says why a file present was not used. */
  async load(): Promise<{ state: StoredState; problem: string | null }> {
    const empty: StoredState = { blocks: new Map(), history: {} };
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { state: empty, problem: code === 'ENOENT' ? null : `cannot read ${this.path}: ${(err as Error).message}` };
    }
    let parsed: z.output<typeof StateFile>;
    try {
      parsed = StateFile.parse(JSON.parse(text));
    } catch (err) {
      return { state: empty, problem: `${this.path} is malformed: ${(err as Error).message.slice(0, 200)}` };
    }
    return { state: { blocks: new Map(Object.entries(parsed.blocks).map(([k, v]) => [Number(k), v])), history: parsed.history }, problem: null };
  }

  /** Writes the state atomically. Rejects on a disk error (the caller logs it and goes on). */
  async save(blocks: Iterable<[number, KnownBlock]>, history: HistoryData, now: number): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true });
    const body = JSON.stringify({ version: 1, saved_at: now, blocks: Object.fromEntries(blocks), history });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, this.path);
  }
}
