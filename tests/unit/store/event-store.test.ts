import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import { createLogger, silentLogger, type Logger } from '../../../src/log.js';
import { EventStore } from '../../../src/store/event-store.js';

const FIELD_ORDER = ['id', 'kind', 'country', 'asn', 'category', 'mechanism', 'severity', 'started_at', 'ended_at', 'summary', 'evidence'];

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

function closed(e: DisruptionEvent, minute: number): DisruptionEvent {
  return { ...e, ended_at: new Date(Date.UTC(2019, 5, 9, 6, minute)).toISOString() };
}

/** A logger whose JSON lines are kept for inspection. */
function capturedLogger(): { log: Logger; entries: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = createLogger('debug', sink);
  const entries = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, entries };
}

async function lines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

let dir: string;
const stores: EventStore[] = [];

async function openStore(opts: { log?: Logger; maxBytes?: number; maxFiles?: number } = {}): Promise<EventStore> {
  const store = await EventStore.open({ dir, log: opts.log ?? silentLogger(), maxBytes: opts.maxBytes, maxFiles: opts.maxFiles });
  stores.push(store);
  return store;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-store-'));
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

describe('EventStore', () => {
  it('round-trips events through a reopen, ordered by started_at then id, one line per record in field order', async () => {
    const a = event('b-later', 10);
    const b = event('z-first', 1, { kind: 'service_blocking', category: 'streaming', mechanism: 'tls', severity: 'warning' });
    const c = event('a-later', 10, { kind: 'partial_outage', asn: 9198, evidence: { eligible: 3, down: 3, ratio: 1, reasons: {}, asns: [9198], targets: ['t1'] } });
    const store = await openStore();
    for (const e of [a, b, c]) await store.record(e);
    expect(store.all()).toEqual([b, c, a]);
    await store.close();

    const file = await lines(join(dir, 'events.jsonl'));
    expect(file).toHaveLength(3);
    expect(Object.keys(JSON.parse(file[0] ?? '') as object)).toEqual(FIELD_ORDER);
    expect(file[0]).toBe(JSON.stringify(a));

    const again = await openStore();
    expect(again.all()).toEqual([b, c, a]);
  });

  it('writes keys in field order whatever order the caller built the object in', async () => {
    const e = event('x', 0);
    const shuffled = Object.fromEntries(Object.entries(e).reverse()) as unknown as DisruptionEvent;
    const store = await openStore();
    await store.record(shuffled);
    await store.close();
    expect(await lines(join(dir, 'events.jsonl'))).toEqual([JSON.stringify(e)]);
  });

  it('keeps the last version of each id, in memory and after a reopen', async () => {
    const e = event('kz-1', 0);
    const store = await openStore();
    await store.record(e);
    await store.record({ ...e, evidence: { ...e.evidence, down: 10, ratio: 1 } });
    await store.record(closed(e, 3));
    expect(store.all()).toEqual([closed(e, 3)]);
    await store.close();
    expect(await lines(join(dir, 'events.jsonl'))).toHaveLength(3);
    expect((await openStore()).all()).toEqual([closed(e, 3)]);
  });

  it('open() lists only events whose ended_at is null', async () => {
    const store = await openStore();
    await store.record(event('a', 0));
    await store.record(closed(event('b', 1), 0));
    await store.record(event('c', 2));
    await store.record(closed(event('c', 2), 5));
    await store.record(event('d', 3));
    expect(store.open().map((e) => e.id)).toEqual(['a', 'd']);
    expect(store.all().map((e) => e.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('captures the state at record() time and hands out copies', async () => {
    const e = event('m', 0);
    const store = await openStore();
    const done = store.record(e);
    e.ended_at = '2019-06-09T07:00:00.000Z';
    e.evidence.down = 0;
    await done;
    const [got] = store.all();
    expect(got?.ended_at).toBeNull();
    expect(got?.evidence.down).toBe(9);
    if (got) got.summary = 'changed by a caller';
    expect(store.all()[0]?.summary).toBe('KZ shutdown m');
  });

  it('rejects an invalid event without storing it, and keeps working', async () => {
    const store = await openStore();
    const bad = { ...event('bad', 0), kind: 'apocalypse' } as unknown as DisruptionEvent;
    await expect(store.record(bad)).rejects.toThrow(/invalid event bad: kind/);
    await expect(store.record({ ...event('bad2', 0), started_at: 'yesterday' })).rejects.toThrow(TypeError);
    await store.record(event('good', 0));
    await store.close();
    expect((await openStore()).all().map((e) => e.id)).toEqual(['good']);
  });

  it('rejects record() after close()', async () => {
    const store = await openStore();
    await store.close();
    await expect(store.record(event('late', 0))).rejects.toThrow(/closed/);
  });

  it('skips a torn last line with a warning, truncates it, and appends on a clean line', async () => {
    const store = await openStore();
    await store.record(event('one', 0));
    await store.record(event('two', 1));
    await store.close();
    const file = join(dir, 'events.jsonl');
    const partial = JSON.stringify(event('three', 2)).slice(0, 57);
    await appendFile(file, partial);

    const { log, entries } = capturedLogger();
    const reopened = await openStore({ log });
    expect(reopened.all().map((e) => e.id)).toEqual(['one', 'two']);
    const warning = entries().find((l) => l.msg === 'torn last line in event log skipped');
    expect(warning).toMatchObject({ level: 'warn', file, line: 3, bytes: 57 });

    await reopened.record(event('four', 3));
    await reopened.close();
    const text = await lines(file);
    expect(text).toHaveLength(3);
    for (const l of text) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect((await openStore()).all().map((e) => e.id)).toEqual(['one', 'two', 'four']);
  });

  it('skips garbage and invalid lines in the middle, naming file and line number', async () => {
    const file = join(dir, 'events.jsonl');
    await writeFile(
      file,
      [
        JSON.stringify(event('first', 0)),
        '{"id": "half", "kind": "shut',
        JSON.stringify(event('second', 1)),
        JSON.stringify({ id: 'no-fields' }),
        '',
        JSON.stringify({ ...event('bad-asn', 2), asn: -1 }),
        '\u0000\u0000\u0000',
        JSON.stringify(closed(event('first', 0), 9)),
      ].join('\n') + '\n',
    );
    const { log, entries } = capturedLogger();
    const store = await openStore({ log });
    expect(store.all()).toEqual([closed(event('first', 0), 9), event('second', 1)]);
    const skipped = entries().filter((l) => l.msg === 'event log line skipped');
    expect(skipped.map((l) => [l.file, l.line])).toEqual([
      [file, 2],
      [file, 4],
      [file, 6],
      [file, 7],
    ]);
    expect(skipped[2]?.error).toMatch(/^asn: /);
  });

  it('rotates by size, keeps at most maxFiles rotated files, and open events survive rotation', async () => {
    const maxBytes = 8 * 1024;
    const maxFiles = 3;
    const early = event('early-open', 0, { country: 'BY' });
    const closedLater = event('early-closed-later', 0, { country: 'IR' });
    const store = await openStore({ maxBytes, maxFiles });
    await store.record(early);
    await store.record(closedLater);
    const filler = (i: number) => closed(event(`filler-${String(i).padStart(4, '0')}`, 1 + (i % 50), { summary: 'x'.repeat(300) }), 0);
    for (let i = 0; i < 150; i++) {
      await store.record(filler(i));
      if (i === 40) await store.record(closed(closedLater, 7));
    }
    await store.close();

    const names = (await readdir(dir)).sort();
    expect(names).toEqual(['events.1.jsonl', 'events.2.jsonl', 'events.3.jsonl', 'events.jsonl']);
    for (const name of names) {
      const text = await readFile(join(dir, name));
      expect(text.length).toBeLessThanOrEqual(maxBytes);
    }

    const reopened = await openStore({ maxBytes, maxFiles });
    expect(reopened.open()).toEqual([early]);
    const ids = new Set(reopened.all().map((e) => e.id));
    expect(ids.has('filler-0149')).toBe(true);
    expect(ids.has('filler-0000')).toBe(false); // rotated out long ago
  });

  it('does not interleave concurrent record() calls', async () => {
    const store = await openStore();
    const big = (i: number) => event(`c-${i}`, i % 60, { summary: `${i}:`.padEnd(20_000 + i * 37, String.fromCharCode(97 + (i % 26))) });
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.record(big(i))));
    await store.close();
    const text = await lines(join(dir, 'events.jsonl'));
    expect(text).toHaveLength(100);
    const parsed = text.map((l) => JSON.parse(l) as DisruptionEvent);
    expect(parsed.map((e) => e.id)).toEqual(Array.from({ length: 100 }, (_, i) => `c-${i}`));
    parsed.forEach((e, i) => expect(e).toEqual(big(i)));
  });

  it('reports a directory it cannot create clearly', async () => {
    await writeFile(join(dir, 'a-file'), 'x');
    await expect(EventStore.open({ dir: join(dir, 'a-file', 'events'), log: silentLogger() })).rejects.toThrow(
      /^storage folder .*a-file\/events: cannot use .*a-file\/events: a file is in the way \(a path component is not a folder\) \(ENOTDIR\); set storage.dir to a writable folder/,
    );
  });

  it('refuses options that could lose open events', async () => {
    await expect(EventStore.open({ dir, log: silentLogger(), maxFiles: 0 })).rejects.toThrow(RangeError);
    await expect(EventStore.open({ dir, log: silentLogger(), maxBytes: 0 })).rejects.toThrow(RangeError);
  });
});
