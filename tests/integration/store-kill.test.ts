import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../src/detect/events.js';
import { createLogger } from '../../src/log.js';
import { EventStore } from '../../src/store/event-store.js';
import { parseEvent } from '../../src/store/event-schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRITER = join(root, 'tests', 'fixtures', 'store-writer.mjs');
const BUILT = join(root, 'dist', 'store', 'event-store.js');
/** Same constant as in the writer: the closed version of an event. */
const ENDED_AT = '2019-06-09T06:00:00.000Z';
const KILLS = 5;

/**
 * Runs the writer on dir until it has acknowledged at least minAcks records, then SIGKILLs it.
 * Resolves with every acknowledged event (complete stdout lines only).
 */
function runAndKill(dir: string, prefix: string, minAcks: number): Promise<DisruptionEvent[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!killed && out.split('\n').length - 1 >= minAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer exited on its own (code ${code}, signal ${signal}): ${err}`));
        return;
      }
      const complete = out.slice(0, out.lastIndexOf('\n') + 1);
      resolve(
        complete
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as DisruptionEvent),
      );
    });
  });
}

/** Every complete line of the file must be a valid event; only an unterminated tail may be torn. */
async function checkFile(file: string): Promise<{ lines: number; tornTail: boolean }> {
  const text = await readFile(file, 'utf8');
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  parts.forEach((line, i) => {
    let value: unknown = null;
    try {
      value = JSON.parse(line);
    } catch {
      // Reported by the assertion below.
    }
    expect(parseEvent(value).ok, `line ${i + 1} is not a valid event`).toBe(true);
  });
  return { lines: parts.length, tornTail: tail !== '' };
}

describe('event store survives kill -9', () => {
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first (npm test does)`);
    dir = await mkdtemp(join(tmpdir(), 'lookout-kill-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged event across 5 SIGKILLs and appends cleanly afterwards', async () => {
    const acked = new Map<string, DisruptionEvent>();
    let torn = 0;
    for (let run = 0; run < KILLS; run++) {
      const minAcks = 50 + Math.floor(Math.random() * 150);
      const acks = await runAndKill(dir, `run${run}`, minAcks);
      expect(acks.length).toBeGreaterThanOrEqual(minAcks);
      for (const e of acks) acked.set(e.id, e);
      const file = await checkFile(join(dir, 'events.jsonl'));
      if (file.tornTail) torn++;
    }
    expect(torn).toBeLessThanOrEqual(KILLS);

    const entries: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l !== '') entries.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const store = await EventStore.open({ dir, log: createLogger('debug', sink) });
    // Bad content can only be the torn tail of the last run: earlier ones were cut by the next writer.
    expect(entries.filter((e) => e.msg === 'event log line skipped')).toEqual([]);
    expect(entries.filter((e) => e.msg === 'torn last line in event log skipped').length).toBeLessThanOrEqual(1);

    const stored = new Map(store.all().map((e) => [e.id, e]));
    for (const [id, ack] of acked) {
      const got = stored.get(id);
      expect(got, `acknowledged event ${id} is missing`).toBeDefined();
      // The closing record may have been durable without its acknowledgement reaching us.
      if (ack.ended_at === null && got?.ended_at !== null) {
        expect(got).toEqual({ ...ack, ended_at: ENDED_AT, summary: `${ack.summary} (ended)` });
      } else {
        expect(got).toEqual(ack);
      }
    }
    // At most one durable but unacknowledged event per kill: the one in flight.
    expect([...stored.keys()].filter((id) => !acked.has(id)).length).toBeLessThanOrEqual(KILLS);

    const after: DisruptionEvent = { ...[...acked.values()][0]!, id: 'after-recovery', summary: 'recorded after the kills' };
    await store.record(after);
    await store.close();
    const file = await checkFile(join(dir, 'events.jsonl'));
    expect(file.tornTail).toBe(false);
    const reopened = await EventStore.open({ dir, log: createLogger('silent') });
    expect(reopened.all().find((e) => e.id === 'after-recovery')).toEqual(after);
    expect(reopened.all()).toHaveLength(stored.size + 1);
    await reopened.close();
  }, 120_000);
});
