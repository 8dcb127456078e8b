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

/**
 * E(b) in the file: a 256-bit map as 64 hex digits, host h being bit h % 8 of byte h >> 3. A
 * list of numbers (version 1) took about 4 bytes an address: 30 MB of JSON, parsed into a
 * number array per block, at 65,536 blocks; the map is 64 bytes a block.
 */
const HostMap = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits');

const Known = z.object({
  /** E(b) as last octets (version 1) or as a host map (version 2). */
  e: z.union([z.array(z.number().int().min(0).max(255)), HostMap]),
  a: z.number().min(0).max(1),
  n: z.number().int().min(0),
});

/** What is kept of one block: E(b) (last octets, ascending when read back), A and its count. */
export interface KnownBlock {
  e: ArrayLike<number>;
  a: number;
  n: number;
}

const StateFile = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  saved_at: z.number(),
  blocks: z.record(z.string().regex(/^\d+$/), Known),
  history: z.record(z.string(), z.array(z.tuple([z.number(), z.number()]))),
});

/** E(b) as a host map (HostMap). */
export function encodeHosts(hosts: ArrayLike<number>): string {
  const bits = new Uint8Array(32);
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i] as number;
    bits[h >> 3] = (bits[h >> 3] as number) | (1 << (h & 7));
  }
  return Buffer.from(bits).toString('hex');
}

/** The hosts of a host map, ascending. */
export function decodeHosts(map: string): Uint8Array {
  const bits = Buffer.from(map, 'hex');
  const hosts: number[] = [];
  for (let h = 0; h < 256; h++) if (((bits[h >> 3] as number) >> (h & 7)) & 1) hosts.push(h);
  return Uint8Array.from(hosts);
}

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
    const blocks = new Map<number, KnownBlock>();
    for (const [k, v] of Object.entries(parsed.blocks)) blocks.set(Number(k), { ...v, e: typeof v.e === 'string' ? decodeHosts(v.e) : v.e });
    return { state: { blocks, history: parsed.history }, problem: null };
  }

  /** Writes the state atomically (version 2). Rejects on a disk error (the caller logs it and goes on). */
  async save(blocks: Iterable<[number, KnownBlock]>, history: HistoryData, now: number): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true });
    const encoded: Record<string, { e: string; a: number; n: number }> = {};
    for (const [id, k] of blocks) encoded[id] = { e: encodeHosts(k.e), a: k.a, n: k.n };
    const body = JSON.stringify({ version: 2, saved_at: now, blocks: encoded, history });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, this.path);
  }
}
