import { appendFile, mkdtemp, readFile, rm, stat, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import { createLogger, silentLogger, type Logger } from '../../../src/log.js';
import { EventStore, type EventStoreOptions, type StorageOp } from '../../../src/store/event-store.js';
import { ResultRecorder } from '../../../src/store/result-recorder.js';

// What the event store does when the disk misbehaves under it while it runs: the file or the
// whole directory deleted, the file truncated or scribbled on by someone else, writes failing
// (/dev/full answers every write with ENOSPC, as a full disk does). Nothing recorded may be
// lost once the disk is back. Real full and read-only filesystems are in
// tests/netns/storage-faults.test.ts (they need a mount namespace).

function event(id: string, minute: number, over: Partial<DisruptionEvent> = {}): DisruptionEvent {
  return {
    id,
    kind: 'shutdown',
    country: 'KZ',
    asn: null,
    category: null,
    mechanism: null,
    severity: 'critical',
    started_at: new Date(Date.UTC(2019, 5, 9, 5, minute)).toISOString(),
    ended_at: null,
    summary: `KZ shutdown ${id}`,
    evidence: { eligible: 10, down: 9, ratio: 0.9, reasons: { tcp_timeout: 9 } },
    ...over,
  };
}

function capturedLogger(): { log: Logger; messages: () => string[]; entries: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const entries = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log: createLogger('debug', sink), entries, messages: () => entries().map((e) => String(e.msg)) };
}

/** The latest state of each id in the log files, as a reopened store sees it. */
async function reread(d: string): Promise<DisruptionEvent[]> {
  const store = await EventStore.open({ dir: d, log: silentLogger() });
  const all = store.all();
  await store.close();
  return all;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let base: string;
let dir: string;
const stores: EventStore[] = [];

async function openStore(opts: Partial<EventStoreOptions> = {}): Promise<EventStore> {
  const store = await EventStore.open({ dir, log: silentLogger(), retryMinMs: 20, retryMaxMs: 100, checkEveryMs: 50, ...opts });
  stores.push(store);
  return store;
}

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'lookout-store-faults-'));
  dir = join(base, 'data');
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await rm(base, { recursive: true, force: true });
});

describe('EventStore under a failing disk', () => {
  it('creates its directory 0750 and events.jsonl 0640 (and the result recorder results.jsonl 0640)', async () => {
    await openStore();
    expect((await stat(dir)).mode & 0o777).toBe(0o750);
    expect((await stat(join(dir, 'events.jsonl'))).mode & 0o777).toBe(0o640);
    const recorder = await ResultRecorder.open(join(base, 'results'), silentLogger());
    await recorder.close();
    expect((await stat(join(base, 'results'))).mode & 0o777).toBe(0o750);
    expect((await stat(join(base, 'results', 'results.jsonl'))).mode & 0o777).toBe(0o640);
  });

  it('recreates a deleted directory on the next record, with every event it held', async () => {
    const { log, messages } = capturedLogger();
    const store = await openStore({ log, checkEveryMs: 60_000 });
    await store.record(event('a', 1));
    await store.record(event('b', 2));
    await rm(dir, { recursive: true });
    await store.record(event('c', 3));
    expect((await reread(dir)).map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(messages()).toContain('event log was deleted or replaced; writing the events held in memory');
    expect(store.status()).toEqual({ healthy: true, pending: 0 });
  });

  it('recreates a deleted directory by itself, with no record to trigger it', async () => {
    const store = await openStore();
    await store.record(event('a', 1));
    await rm(dir, { recursive: true });
    await until(async () => (await stat(join(dir, 'events.jsonl')).catch(() => null))?.size !== 0 && (await reread(dir).catch(() => [])).length === 1, 'the recreated file');
    expect((await reread(dir)).map((e) => e.id)).toEqual(['a']);
    expect(store.status().healthy).toBe(true);
  });

  it('rewrites the events into a file that was replaced or truncated under it', async () => {
    const store = await openStore({ checkEveryMs: 60_000 });
    await store.record(event('a', 1));
    await store.record(event('b', 2));
    await unlink(join(dir, 'events.jsonl'));
    await writeFile(join(dir, 'events.jsonl'), '');
    await store.record(event('c', 3));
    expect((await reread(dir)).map((e) => e.id)).toEqual(['a', 'b', 'c']);
    await truncate(join(dir, 'events.jsonl'), 10);
    await store.record(event('a', 1, { ended_at: new Date(Date.UTC(2019, 5, 9, 6)).toISOString() }));
    const after = await reread(dir);
    expect(after.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(after[0]?.ended_at).not.toBeNull();
  });

  it('keeps the next line whole after another writer appended a partial line', async () => {
    const { log, messages } = capturedLogger();
    const store = await openStore({ log, checkEveryMs: 60_000 });
    await store.record(event('a', 1));
    await appendFile(join(dir, 'events.jsonl'), '{"garbage": tru');
    await store.record(event('b', 2));
    expect((await reread(dir)).map((e) => e.id)).toEqual(['a', 'b']);
    expect(messages()).toContain('event log changed by another writer');
  });

  it('holds events while writes fail (ENOSPC), reports it once, and writes them in order once the disk is back', async () => {
    const { log, entries } = capturedLogger();
    const errors: StorageOp[] = [];
    const store = await openStore({ log, onError: (op) => errors.push(op) });
    await store.record(event('a', 1));
    // A disk that takes no byte: every write fails with ENOSPC.
    await unlink(join(dir, 'events.jsonl'));
    await symlink('/dev/full', join(dir, 'events.jsonl'));
    const held = [store.record(event('b', 2)), store.record(event('c', 3)), store.record(event('b', 2, { ended_at: new Date(Date.UTC(2019, 5, 9, 7)).toISOString() }))];
    await until(() => errors.length >= 3, 'a few failed retries');
    expect(store.status()).toEqual({ healthy: false, pending: 2 });
    // Served from memory meanwhile.
    expect(store.all().map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(new Set(errors)).toEqual(new Set(['write']));
    const failures = entries().filter((e) => e.msg === 'event store cannot write; holding events in memory and retrying');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'ENOSPC', op: 'write' });

    await unlink(join(dir, 'events.jsonl'));
    await Promise.all(held);
    expect(store.status()).toEqual({ healthy: true, pending: 0 });
    const stored = await reread(dir);
    expect(stored.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(stored[1]?.ended_at).not.toBeNull();
    expect(entries().some((e) => e.msg === 'event store writable again; held events written')).toBe(true);
  });

  it('bounds what it holds: past maxPending the oldest waiting event is dropped, with a log line', async () => {
    const { log, messages } = capturedLogger();
    const store = await openStore({ log, maxPending: 2, retryMinMs: 10_000, retryMaxMs: 10_000, checkEveryMs: 60_000 });
    await unlink(join(dir, 'events.jsonl'));
    await symlink('/dev/full', join(dir, 'events.jsonl'));
    const results = ['a', 'b', 'c', 'd'].map((id, i) => store.record(event(id, i)).then(() => 'written', (err: Error) => err.message));
    await until(() => messages().includes('event dropped: too many events waiting for the disk'), 'a drop');
    expect(store.status().pending).toBeLessThanOrEqual(2);
    await store.close();
    const outcome = await Promise.all(results);
    expect(outcome.filter((o) => o.includes('dropped'))).not.toHaveLength(0);
    expect(messages()).toContain('events not written at shutdown: the disk did not take them');
  });

  it('writes what is queued at close() when the disk took it back meanwhile', async () => {
    const store = await openStore({ retryMinMs: 60_000, retryMaxMs: 60_000, checkEveryMs: 60_000 });
    await unlink(join(dir, 'events.jsonl'));
    await symlink('/dev/full', join(dir, 'events.jsonl'));
    const held = store.record(event('a', 1));
    await until(() => !store.status().healthy, 'the failure');
    await unlink(join(dir, 'events.jsonl'));
    await store.close();
    await held;
    expect((await reread(dir)).map((e) => e.id)).toEqual(['a']);
  });

  it('keeps the good lines of a corrupted file on start', async () => {
    const good = JSON.stringify(event('a', 1));
    const { log, entries } = capturedLogger();
    await rm(dir, { recursive: true, force: true });
    await openStore({ dir: base, log }).then((s) => s.close());
    await writeFile(join(base, 'events.jsonl'), `${good}\n\u0000\u0000\u0007binary\n{"id":"x"}\n${JSON.stringify(event('b', 2))}\n`);
    const store = await openStore({ dir: base, log });
    expect(store.all().map((e) => e.id)).toEqual(['a', 'b']);
    expect(entries().filter((e) => e.msg === 'event log line skipped').map((e) => e.line)).toEqual([2, 3]);
    expect(await readFile(join(base, 'events.jsonl'), 'utf8')).toContain(good);
  });
});
