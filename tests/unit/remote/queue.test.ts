import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../../src/log.js';
import { DurableQueue, SeriesRef, type Batch } from '../../../src/remote/queue.js';

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

const series = (target: string) =>
  new SeriesRef([
    { name: '__name__', value: 'lookout_probe_success' },
    { name: 'target', value: target },
    { name: 'vantage', value: 'v1' },
  ]);

/** Every sample of a batch as "target@ts=value", in the order the batch carries them per series. */
function flat(batch: Batch | null): string[] {
  if (batch === null) return [];
  const out: string[] = [];
  for (const ts of batch.series) {
    const target = ts.labels.find((l) => l.name === 'target')?.value;
    for (const s of ts.samples) out.push(`${target}@${s.timestamp}=${s.value}`);
  }
  return out;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lookout-rwq-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function openQueue(opts: { maxBytes?: number; segmentBytes?: number; log?: Logger; onDrop?: (n: number) => void } = {}): Promise<DurableQueue> {
  return DurableQueue.open({
    dir: join(dir, 'q'),
    maxBytes: opts.maxBytes ?? 1024 * 1024,
    remote: 'center',
    log: opts.log ?? capturedLogger().log,
    ...(opts.segmentBytes !== undefined ? { segmentBytes: opts.segmentBytes } : {}),
    ...(opts.onDrop ? { onDrop: opts.onDrop } : {}),
  });
}

/** Drains the queue, acknowledging each batch; returns every sample in order. */
async function drain(q: DurableQueue, max = 1000): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    const b = await q.peek(max);
    if (b === null) return got;
    got.push(...flat(b));
    await q.ack(b);
  }
}

describe('DurableQueue', () => {
  it('counts samples only once flushed, and sends them in order with their timestamps', async () => {
    const q = await openQueue();
    const a = series('a');
    const b = series('b');
    q.append(a, 1000, 1);
    q.append(b, 1000, 0);
    q.append(a, 2000, 1);
    expect(q.status().pendingSamples).toBe(0);
    expect(await q.peek(10)).toBeNull();
    await q.flush();
    expect(q.status()).toMatchObject({ pendingSamples: 3, oldestTs: 1000 });
    const batch = await q.peek(10);
    // Samples of one series are grouped, each series in time order.
    expect(flat(batch)).toEqual(['a@1000=1', 'a@2000=1', 'b@1000=0']);
    expect(batch?.series[0]?.labels.map((l) => l.name)).toEqual(['__name__', 'target', 'vantage']);
    await q.close();
  });

  it('gives the same batch again until it is acknowledged, then the next one', async () => {
    const q = await openQueue();
    const a = series('a');
    for (let i = 0; i < 5; i++) q.append(a, i, i);
    await q.flush();
    const first = await q.peek(2);
    expect(flat(await q.peek(2))).toEqual(flat(first));
    await q.ack(first as Batch);
    expect(flat(await q.peek(2))).toEqual(['a@2=2', 'a@3=3']);
    expect(q.status().pendingSamples).toBe(3);
    await q.close();
  });

  it('resumes after a restart from the acknowledged position: nothing acknowledged is read again', async () => {
    const q1 = await openQueue({ segmentBytes: 256 });
    const a = series('a');
    for (let i = 0; i < 50; i++) {
      q1.append(a, i, i);
      // Many flushes: many segments.
      if (i % 5 === 4) await q1.flush();
    }
    const first = await q1.peek(17);
    await q1.ack(first as Batch);
    // No close(): as after a SIGKILL.
    const q2 = await openQueue({ segmentBytes: 256 });
    expect(q2.status().pendingSamples).toBe(33);
    const rest = await drain(q2, 7);
    expect(rest).toEqual(Array.from({ length: 33 }, (_, i) => `a@${i + 17}=${i + 17}`));
    // And new samples go on after the old ones.
    q2.append(a, 100, 1);
    await q2.flush();
    expect(await drain(q2)).toEqual(['a@100=1']);
    await q2.close();
    const q3 = await openQueue({ segmentBytes: 256 });
    expect(q3.status().pendingSamples).toBe(0);
    expect(await q3.peek(10)).toBeNull();
    await q3.close();
    // A killed process's files are closed by the kernel; this one's only now, after the restart.
    await q1.close();
  });

  it('deletes segments once wholly acknowledged', async () => {
    const q = await openQueue({ segmentBytes: 200 });
    const a = series('a');
    for (let i = 0; i < 40; i++) {
      q.append(a, i, i);
      await q.flush();
    }
    const segs = () => readdirSync(join(dir, 'q')).filter((n) => n.endsWith('.seg'));
    expect(segs().length).toBeGreaterThan(3);
    expect((await drain(q)).length).toBe(40);
    // Only the segment being written remains.
    expect(segs().length).toBe(1);
    await q.close();
  });

  it('cuts a torn last record off on open and keeps every whole record before it', async () => {
    const q1 = await openQueue();
    const a = series('a');
    q1.append(a, 1, 1);
    q1.append(a, 2, 1);
    await q1.flush();
    q1.append(a, 3, 1);
    await q1.flush();
    await q1.close();
    const [seg] = readdirSync(join(dir, 'q')).filter((n) => n.endsWith('.seg'));
    const path = join(dir, 'q', seg as string);
    const whole = statSync(path).size;
    // A crash mid-write: half a record's header and payload.
    appendFileSync(path, Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 2, 1, 0]));
    const { log, entries } = capturedLogger();
    const q2 = await openQueue({ log });
    expect(statSync(path).size).toBe(whole);
    expect(entries().some((e) => e.msg === 'remote write queue: cut a torn record off a segment')).toBe(true);
    expect(await drain(q2)).toEqual(['a@1=1', 'a@2=1', 'a@3=1']);
    await q2.close();
  });

  it('stops at a corrupt record (a bad checksum) instead of sending garbage', async () => {
    const q1 = await openQueue();
    const a = series('a');
    q1.append(a, 1, 1);
    await q1.flush();
    q1.append(a, 2, 1);
    await q1.flush();
    await q1.close();
    const [seg] = readdirSync(join(dir, 'q')).filter((n) => n.endsWith('.seg'));
    const path = join(dir, 'q', seg as string);
    const bytes = readFileSync(path);
    // Flip a bit in the last byte (the second samples record's value).
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
    writeFileSync(path, bytes);
    const q2 = await openQueue();
    expect(await drain(q2)).toEqual(['a@1=1']);
    await q2.close();
  });

  it('over its budget drops the oldest samples, counts and logs them, and keeps the newest', async () => {
    const { log, entries } = capturedLogger();
    let dropped = 0;
    const q = await openQueue({ maxBytes: 2000, segmentBytes: 500, log, onDrop: (n) => (dropped += n) });
    const a = series('a');
    for (let i = 0; i < 200; i++) {
      q.append(a, i, i);
      if (i % 10 === 9) await q.flush();
    }
    const st = q.status();
    expect(st.pendingBytes).toBeLessThanOrEqual(2000);
    expect(dropped).toBeGreaterThan(0);
    expect(st.pendingSamples + dropped).toBe(200);
    const got = await drain(q);
    expect(got.length).toBe(st.pendingSamples);
    // The newest sample is kept, and what is left is the unbroken tail.
    expect(got.at(-1)).toBe('a@199=199');
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => `a@${200 - got.length + i}=${200 - got.length + i}`));
    // Logged at once the first time, then at most once a minute: the rest comes at close().
    const warns = () => entries().filter((e) => e.msg === 'remote write queue over budget, dropped oldest samples');
    expect(warns().length).toBe(1);
    await q.close();
    expect(warns().length).toBe(2);
    expect(warns().reduce((n, e) => n + (e.samples as number), 0)).toBe(dropped);
    expect(warns().every((e) => (e.samples as number) > 0)).toBe(true);
  });

  it('drops already acknowledged samples without counting them', async () => {
    let dropped = 0;
    const q = await openQueue({ maxBytes: 1500, segmentBytes: 400, onDrop: (n) => (dropped += n) });
    const a = series('a');
    for (let i = 0; i < 30; i++) {
      q.append(a, i, i);
      await q.flush();
      const b = await q.peek(100);
      await q.ack(b as Batch);
    }
    expect(dropped).toBe(0);
    await q.close();
  });

  it('keeps series labels across segments and after a restart in the middle of a segment', async () => {
    const q1 = await openQueue({ segmentBytes: 300 });
    const refs = ['x', 'y', 'z'].map(series);
    for (let i = 0; i < 30; i++) {
      q1.append(refs[i % 3] as SeriesRef, i, i);
      if (i % 4 === 3) await q1.flush();
    }
    await q1.flush();
    const b = await q1.peek(5);
    await q1.ack(b as Batch);
    const q2 = await openQueue({ segmentBytes: 300 });
    const rest = await drain(q2, 4);
    expect(rest.sort()).toEqual(
      Array.from({ length: 25 }, (_, k) => k + 5)
        .map((i) => `${['x', 'y', 'z'][i % 3]}@${i}=${i}`)
        .sort(),
    );
    await q2.close();
    // Never closed before the restart (as after a crash); its file handle goes now, not to the GC.
    await q1.close();
  });

  it('reads records larger than its read chunk, and follows a segment as it grows', async () => {
    const q = await openQueue({ maxBytes: 64 * 1024 * 1024 });
    const a = series('a');
    // One flush of 80,000 samples: a 1.6 MB record, over the 1 MiB read chunk.
    for (let i = 0; i < 80_000; i++) q.append(a, i, i);
    await q.flush();
    let n = 0;
    let last = -1;
    for (;;) {
      const b = await q.peek(7000);
      if (b === null) break;
      for (const s of b.series[0]?.samples ?? []) {
        expect(s.timestamp).toBe(last + 1);
        last = s.timestamp;
        n++;
      }
      await q.ack(b);
      // The segment grows while it is read.
      if (n === 35_000) {
        q.append(a, 80_000, 1);
        await q.flush();
      }
    }
    expect(n).toBe(80_001);
    await q.close();
  });

  it('makes its directory 0700 and its files 0600', async () => {
    const q = await openQueue();
    q.append(series('a'), 1, 1);
    await q.flush();
    await q.ack((await q.peek(10)) as Batch);
    const qdir = join(dir, 'q');
    expect(statSync(qdir).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(qdir)) expect(statSync(join(qdir, name)).mode & 0o777, name).toBe(0o600);
    await q.close();
  });
});
