import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockStore, decodeHosts, encodeHosts } from '../../../src/blocks/block-store.js';

const dir = mkdtempSync(join(tmpdir(), 'lookout-block-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the block state file', () => {
  it('a host map gives back the hosts it was made of, ascending', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { maxLength: 256 }), (hosts) => {
        const map = encodeHosts(hosts);
        expect(map).toMatch(/^[0-9a-f]{64}$/);
        expect([...decodeHosts(map)]).toEqual([...hosts].sort((a, b) => a - b));
      }),
    );
  });

  it('saves E(b) as host maps (version 2) and reads them back', async () => {
    const store = new BlockStore(join(dir, 'v2'));
    await store.save([[0x7f0001, { e: Uint8Array.from([200, 3, 255, 0]), a: 0.75, n: 40 }]], { 'country:XA': [[1, 5]] }, 123);
    const file = JSON.parse(readFileSync(store.path, 'utf8')) as { version: number; blocks: Record<string, { e: unknown }> };
    expect(file.version).toBe(2);
    expect(typeof file.blocks[String(0x7f0001)]?.e).toBe('string');
    const { state, problem } = await store.load();
    expect(problem).toBeNull();
    const known = state.blocks.get(0x7f0001);
    expect(Array.from(known?.e ?? [])).toEqual([0, 3, 200, 255]);
    expect(known).toMatchObject({ a: 0.75, n: 40 });
    expect(state.history).toEqual({ 'country:XA': [[1, 5]] });
  });

  it('still reads a version 1 file (E(b) as a list), as the previous release wrote it', async () => {
    const store = new BlockStore(join(dir, 'v1'));
    mkdirSync(join(dir, 'v1', 'blocks'), { recursive: true });
    writeFileSync(store.path, JSON.stringify({ version: 1, saved_at: 1, blocks: { '8323329': { e: [9, 1, 5], a: 0.5, n: 3 } }, history: {} }));
    const { state, problem } = await store.load();
    expect(problem).toBeNull();
    expect(Array.from(state.blocks.get(8_323_329)?.e ?? [])).toEqual([9, 1, 5]);
  });

  it('a malformed host map is reported and the file not used', async () => {
    const store = new BlockStore(join(dir, 'bad'));
    mkdirSync(join(dir, 'bad', 'blocks'), { recursive: true });
    writeFileSync(store.path, JSON.stringify({ version: 2, saved_at: 1, blocks: { '8323329': { e: 'xyz', a: 0.5, n: 3 } }, history: {} }));
    const { state, problem } = await store.load();
    expect(problem).toMatch(/malformed/);
    expect(state.blocks.size).toBe(0);
  });
});
