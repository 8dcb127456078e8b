/**
 * The durable queue of one remote (docs/design.md "Remote write"). Samples are appended in
 * memory (cheap: the probe path calls it), then written and fsynced to a segment file by
 * flush(); only then do they count as pending and may be sent. The sender reads batches in
 * order with peek() and moves the acknowledged position with ack(), which is persisted
 * atomically (temporary file, rename; fsynced at most once a second): after a crash of the
 * process, sending resumes from it and nothing acknowledged is sent again (after a power loss,
 * at most about a second of acknowledged batches goes again). Over `maxBytes` on disk the oldest segments are deleted,
 * their unsent samples counted as dropped and logged. A torn last record (a crash mid-write) is
 * cut off when the queue is opened.
 *
 * Files: `<dir>/<first sequence number, 20 digits>.seg` (see segment.ts) and `<dir>/ack`
 * (the acknowledged sequence number). Directory 0700, files 0600.
 */
import { mkdir, open, readdir, readFile, rename, rm, chmod, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { syncDir } from '../store/sync-dir.js';
import type { Label, Sample, TimeSeries } from './prompb.js';
import { HEADER_BYTES, labelsToText, readRecord, sampleId, samplesRecord, sampleTs, sampleValue, scanSegment, seriesRecord, textToLabels, type SegmentRecord } from './segment.js';

/** The 'dropped oldest samples' log line comes at most this often per queue. */
const DROP_LOG_EVERY_MS = 60_000;

/** A series as the collector keeps it: labels sorted by name (with __name__), rendered once. */
export class SeriesRef {
  readonly text: string;
  constructor(readonly labels: readonly Label[]) {
    this.text = labelsToText(labels);
  }
}

export interface QueueOptions {
  dir: string;
  /** Disk budget: over it the oldest segments are dropped. */
  maxBytes: number;
  /** The remote's name, for log lines. */
  remote: string;
  log: Logger;
  /** Size at which a segment is closed and a new one begun; default maxBytes / 8, 4 KiB to 16 MiB. */
  segmentBytes?: number;
  /** Called after each flush that made samples durable (wakes the sender). */
  onDurable?: () => void;
  /** Called with the number of samples dropped over budget (for the counter). */
  onDrop?: (samples: number) => void;
}

/** A batch read by peek(): send it, then ack() it. */
export interface Batch {
  series: TimeSeries[];
  samples: number;
  /** Sequence number after the batch's last sample: the acknowledged position once sent. */
  endSeq: number;
  /** Timestamp of the batch's first sample (ms). */
  firstTs: number;
  readonly cursor: Cursor;
}

export interface QueueStatus {
  pendingSamples: number;
  /** Bytes of segment files on disk. */
  pendingBytes: number;
  /** Timestamp (ms) of the oldest pending sample, null when nothing is pending. */
  oldestTs: number | null;
}

interface Segment {
  firstSeq: number;
  /** Sequence number after its last durable sample. */
  endSeq: number;
  /** Durable bytes. */
  bytes: number;
  firstTs: number | null;
  path: string;
}

/** Where the reader is: a record of a segment and a sample within it. */
interface Cursor {
  seg: Segment;
  offset: number;
  within: number;
  seq: number;
  /** Series ids of the segment seen so far. */
  ids: Map<number, SeriesText>;
}

/** A series of a segment as the reader knows it: label text (the grouping key across segments) and labels. */
interface SeriesText {
  text: string;
  labels: Label[];
}

/** Cannot happen with files this module wrote (a series record precedes its samples): kept as data, not a crash. */
const UNKNOWN_SERIES: SeriesText = { text: '', labels: [{ name: '__name__', value: 'lookout_remote_write_unknown_series' }] };
const SEG_RE = /^(\d{20})\.seg$/;
/** The acknowledged position is fsynced at most this often (see ack()). */
const ACK_SYNC_EVERY_MS = 1000;
/** Bytes the reader reads from a segment at once. */
const READ_CHUNK = 1024 * 1024;
/** Staged (not yet durable) samples kept at most while the disk fails; the oldest go over it. */
const MAX_STAGED = 1_000_000;

export class DurableQueue {
  private readonly segments: Segment[] = [];
  private ackSeq = 0;
  private nextSeq = 0;
  private cursor: Cursor | null = null;
  /** What the reader last read of a segment: its bytes from offset `base` on. */
  private readBuf: { seg: Segment; base: number; buf: Buffer } | null = null;
  private active: { seg: Segment; fh: FileHandle; ids: Map<SeriesRef, number>; nextId: number } | null = null;
  private stagedSeries: SeriesRef[] = [];
  private stagedTs: number[] = [];
  private stagedValues: number[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private lastWriteError = 0;
  /** Drops not yet logged (the log line comes at most once a minute; the counter at once). */
  private readonly unloggedDrops = { samples: 0, bytes: 0, lastLog: -Infinity };
  private lastAckSync = 0;
  private readonly segmentBytes: number;

  private constructor(private readonly opts: QueueOptions) {
    this.segmentBytes = opts.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(4096, Math.floor(opts.maxBytes / 8)));
  }

  /** Opens (creating when needed) the queue in opts.dir; cuts a torn last record off. */
  static async open(opts: QueueOptions): Promise<DurableQueue> {
    const q = new DurableQueue(opts);
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    await chmod(opts.dir, 0o700);
    q.ackSeq = await readAck(join(opts.dir, 'ack'), opts);
    const names = (await readdir(opts.dir)).filter((n) => SEG_RE.test(n)).sort();
    for (const name of names) {
      const path = join(opts.dir, name);
      const firstSeq = Number(name.slice(0, 20));
      const buf = await readFile(path);
      const scan = scanSegment(buf);
      if (scan.validBytes < buf.length) {
        opts.log.warn({ remote: opts.remote, segment: name, valid_bytes: scan.validBytes, bytes: buf.length }, 'remote write queue: cut a torn record off a segment');
        const fh = await open(path, 'r+');
        try {
          await fh.truncate(scan.validBytes);
          await fh.datasync();
        } finally {
          await fh.close();
        }
      }
      const endSeq = firstSeq + scan.samples;
      if (scan.samples === 0 || endSeq <= q.ackSeq) {
        await rm(path, { force: true });
        continue;
      }
      q.segments.push({ firstSeq, endSeq, bytes: scan.validBytes, firstTs: scan.firstTs, path });
    }
    const last = q.segments.at(-1);
    q.nextSeq = Math.max(q.ackSeq, last?.endSeq ?? 0);
    return q;
  }

  /** Stages one sample; it becomes durable (and pending) at the next flush(). O(1), no I/O. */
  append(series: SeriesRef, ts: number, value: number): void {
    if (this.closed) return;
    this.stagedSeries.push(series);
    this.stagedTs.push(ts);
    this.stagedValues.push(value);
  }

  /** Samples staged in memory, not yet durable. */
  get staged(): number {
    return this.stagedSeries.length;
  }

  /**
   * Writes and fsyncs what is staged; resolves once it is durable. Serialised with other
   * flushes. A failing disk keeps the samples staged (logged, retried at the next flush).
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const n = this.stagedSeries.length;
    if (n === 0) return;
    const series = this.stagedSeries;
    const ts = this.stagedTs;
    const values = this.stagedValues;
    this.stagedSeries = [];
    this.stagedTs = [];
    this.stagedValues = [];
    try {
      if (this.active !== null && this.active.seg.bytes >= this.segmentBytes) await this.closeActive();
      const active = this.active ?? (await this.startSegment());
      const parts: Buffer[] = [];
      const ids: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        const ref = series[i] as SeriesRef;
        let id = active.ids.get(ref);
        if (id === undefined) {
          id = active.nextId++;
          active.ids.set(ref, id);
          parts.push(seriesRecord(id, ref.text));
        }
        ids[i] = id;
      }
      parts.push(samplesRecord(ids, ts, values, 0, n));
      const buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      try {
        await active.fh.write(buf, 0, buf.length, active.seg.bytes);
        await active.fh.datasync();
      } catch (err) {
        // Whatever part of the write reached the file is cut off again, and the next flush
        // starts a new segment (its series ids are defined afresh there).
        await active.fh.truncate(active.seg.bytes).catch(() => undefined);
        await this.closeActive();
        if (active.seg.endSeq === active.seg.firstSeq) {
          this.segments.splice(this.segments.indexOf(active.seg), 1);
          await rm(active.seg.path, { force: true });
        }
        throw err;
      }
      active.seg.bytes += buf.length;
      active.seg.endSeq += n;
      active.seg.firstTs ??= ts[0] as number;
      this.nextSeq += n;
    } catch (err) {
      this.restage(series, ts, values);
      const now = Date.now();
      if (now - this.lastWriteError > 60_000) {
        this.lastWriteError = now;
        this.opts.log.error({ remote: this.opts.remote, err, staged: this.stagedSeries.length }, 'remote write queue: write to disk failed; samples held in memory');
      }
      return;
    }
    await this.enforceBudget();
    this.opts.onDurable?.();
  }

  private restage(series: SeriesRef[], ts: number[], values: number[]): void {
    this.stagedSeries = series.concat(this.stagedSeries);
    this.stagedTs = ts.concat(this.stagedTs);
    this.stagedValues = values.concat(this.stagedValues);
    const over = this.stagedSeries.length - MAX_STAGED;
    if (over > 0) {
      this.stagedSeries.splice(0, over);
      this.stagedTs.splice(0, over);
      this.stagedValues.splice(0, over);
      this.noteDrop(over, 0);
    }
  }

  private async startSegment(): Promise<NonNullable<DurableQueue['active']>> {
    const path = join(this.opts.dir, `${String(this.nextSeq).padStart(20, '0')}.seg`);
    const fh = await open(path, 'w', 0o600);
    // The new file's name must survive a power loss too, not only its data.
    await syncDir(this.opts.dir);
    const seg: Segment = { firstSeq: this.nextSeq, endSeq: this.nextSeq, bytes: 0, firstTs: null, path };
    this.segments.push(seg);
    this.active = { seg, fh, ids: new Map(), nextId: 0 };
    return this.active;
  }

  private async closeActive(): Promise<void> {
    const a = this.active;
    this.active = null;
    if (a !== null) await a.fh.close().catch(() => undefined);
  }

  /** Drops the oldest segments while the queue is over its budget (never the one being written). */
  private async enforceBudget(): Promise<void> {
    let total = this.diskBytes();
    let samples = 0;
    let bytes = 0;
    while (total > this.opts.maxBytes && this.segments.length > 0) {
      const oldest = this.segments[0] as Segment;
      if (this.active?.seg === oldest) {
        // The segment being written is itself over the budget: close it so that it can go.
        if (this.segments.length === 1) await this.closeActive();
        else break;
      }
      this.segments.shift();
      const unsent = Math.max(0, oldest.endSeq - Math.max(oldest.firstSeq, this.ackSeq));
      samples += unsent;
      bytes += oldest.bytes;
      total -= oldest.bytes;
      if (this.cursor?.seg === oldest) this.cursor = null;
      if (this.readBuf?.seg === oldest) this.readBuf = null;
      await rm(oldest.path, { force: true });
    }
    // Segments already acknowledged hold nothing unsent: their removal is not a loss.
    if (samples > 0) this.noteDrop(samples, bytes);
  }

  /**
   * Counts dropped samples at once; logs them at most once a minute (a queue that stays over
   * budget through a long cut drops at every flush), and what is left at close().
   */
  private noteDrop(samples: number, bytes: number): void {
    this.opts.onDrop?.(samples);
    const u = this.unloggedDrops;
    u.samples += samples;
    u.bytes += bytes;
    if (Date.now() - u.lastLog >= DROP_LOG_EVERY_MS) this.logDrops();
  }

  private logDrops(): void {
    const u = this.unloggedDrops;
    if (u.samples === 0) return;
    this.opts.log.warn({ remote: this.opts.remote, samples: u.samples, bytes: u.bytes }, 'remote write queue over budget, dropped oldest samples');
    u.samples = 0;
    u.bytes = 0;
    u.lastLog = Date.now();
  }

  private diskBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.bytes;
    return total;
  }

  private startSeq(): number {
    const first = this.segments[0];
    return first === undefined ? this.ackSeq : Math.max(this.ackSeq, first.firstSeq);
  }

  /** Durable samples not yet acknowledged. Cheap: the sender asks at every wake-up. */
  get pendingSamples(): number {
    let pending = 0;
    for (const s of this.segments) pending += Math.max(0, s.endSeq - Math.max(s.firstSeq, this.ackSeq));
    return pending;
  }

  status(): QueueStatus {
    const pending = this.pendingSamples;
    let oldestTs: number | null = null;
    if (pending > 0) {
      const start = this.startSeq();
      const seg = this.segments.find((s) => s.endSeq > start);
      oldestTs = this.headTs ?? seg?.firstTs ?? null;
    }
    return { pendingSamples: pending, pendingBytes: this.diskBytes(), oldestTs };
  }

  /** Timestamp of the next sample to send, when the reader has seen it. */
  private headTs: number | null = null;

  /**
   * The next batch of at most `max` pending samples, in order (samples of one series grouped,
   * in time order); null when nothing is pending. The same batch comes again until ack().
   */
  async peek(max: number): Promise<Batch | null> {
    const start = this.startSeq();
    let cur: Cursor | null = this.cursor !== null && this.cursor.seq === start ? this.cursor : await this.seek(start);
    if (cur === null) return null;
    cur = { ...cur, ids: cur.ids };
    const bySeries = new Map<string, { labels: readonly Label[]; samples: Sample[] }>();
    let count = 0;
    let firstTs: number | null = null;
    while (count < max) {
      if (cur.offset >= cur.seg.bytes) {
        const next: Segment | undefined = this.segments[this.segments.indexOf(cur.seg) + 1];
        if (next === undefined) break;
        cur = { seg: next, offset: 0, within: 0, seq: next.firstSeq, ids: new Map() };
      }
      const rec = await this.recordAt(cur.seg, cur.offset);
      if (rec === null) break;
      if (rec.type === 'series') {
        // The ids map is shared with the committed cursor: a series record it has not passed yet
        // is the same definition when it gets there.
        cur.ids.set(rec.id, { text: rec.labels, labels: textToLabels(rec.labels) });
        cur = { ...cur, offset: rec.end, within: 0 };
        continue;
      }
      let i: number = cur.within;
      for (; i < rec.count && count < max; i++) {
        const known = cur.ids.get(sampleId(rec.payload, i)) ?? UNKNOWN_SERIES;
        let ts = bySeries.get(known.text);
        if (ts === undefined) {
          ts = { labels: known.labels, samples: [] };
          bySeries.set(known.text, ts);
        }
        const timestamp = sampleTs(rec.payload, i);
        ts.samples.push({ value: sampleValue(rec.payload, i), timestamp });
        firstTs ??= timestamp;
        count++;
      }
      cur = i >= rec.count ? { ...cur, offset: rec.end, within: 0, seq: cur.seq + (i - cur.within) } : { ...cur, within: i, seq: cur.seq + (i - cur.within) };
    }
    if (count === 0) return null;
    this.headTs = firstTs;
    return { series: [...bySeries.values()], samples: count, endSeq: cur.seq, firstTs: firstTs as number, cursor: cur };
  }

  /** A cursor at sequence number `seq` (or the first pending sample after it): reads from the start of its segment. */
  private async seek(seq: number): Promise<Cursor | null> {
    const seg = this.segments.find((s) => s.endSeq > seq);
    if (seg === undefined) return null;
    let cur: Cursor = { seg, offset: 0, within: 0, seq: seg.firstSeq, ids: new Map() };
    while (cur.seq < seq) {
      const rec = await this.recordAt(seg, cur.offset);
      if (rec === null) break;
      if (rec.type === 'series') {
        cur.ids.set(rec.id, { text: rec.labels, labels: textToLabels(rec.labels) });
        cur = { ...cur, offset: rec.end };
        continue;
      }
      const skip = Math.min(rec.count, seq - cur.seq);
      cur = skip === rec.count ? { ...cur, offset: rec.end, within: 0, seq: cur.seq + skip } : { ...cur, within: skip, seq: cur.seq + skip };
    }
    return cur;
  }

  /**
   * The record at `offset` of a segment's durable bytes (offsets in it are the segment's), or
   * null at the end. Reads the segment from `offset` on in chunks of READ_CHUNK (more for a
   * larger record), so that following the segment being written costs only what it grew by.
   */
  private async recordAt(seg: Segment, offset: number): Promise<SegmentRecord | null> {
    if (offset + HEADER_BYTES > seg.bytes) return null;
    type Window = NonNullable<DurableQueue['readBuf']>;
    const covers = (w: Window | null, need: number): w is Window => w !== null && w.seg === seg && offset >= w.base && offset + need <= w.base + w.buf.length;
    let w = this.readBuf;
    if (!covers(w, HEADER_BYTES)) w = await this.load(seg, offset, HEADER_BYTES);
    if (!covers(w, HEADER_BYTES)) return null;
    const need = HEADER_BYTES + w.buf.readUInt32LE(offset - w.base);
    if (!covers(w, need)) {
      if (offset + need > seg.bytes) return null;
      w = await this.load(seg, offset, need);
      if (!covers(w, need)) return null;
    }
    const rec = readRecord(w.buf, offset - w.base);
    if (rec === null) return null;
    return { ...rec, offset, end: rec.end + w.base };
  }

  private async load(seg: Segment, offset: number, need: number): Promise<{ seg: Segment; base: number; buf: Buffer } | null> {
    const size = Math.min(seg.bytes - offset, Math.max(READ_CHUNK, need));
    const fh = await open(seg.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await fh.read(buf, got, size - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      this.readBuf = { seg, base: offset, buf: buf.subarray(0, got) };
      return this.readBuf;
    } finally {
      await fh.close();
    }
  }

  /**
   * Records that the receiver took `batch` (or refused it for good): persisted before this
   * resolves, so that it is never sent again. Deletes segments that are wholly acknowledged.
   */
  async ack(batch: Batch): Promise<void> {
    if (batch.endSeq <= this.ackSeq) return;
    this.ackSeq = batch.endSeq;
    this.cursor = this.segments.includes(batch.cursor.seg) ? batch.cursor : null;
    this.headTs = null;
    // The rename alone makes the new position survive a crash of the process (SIGKILL); the
    // fsync, at most once a second, bounds what a power loss can take back to about a second
    // of acknowledgements (sent again, as duplicates the receiver ignores). An fsync per
    // request would make a busy disk's latency the drain's pace.
    const now = Date.now();
    const sync = now - this.lastAckSync >= ACK_SYNC_EVERY_MS;
    if (sync) this.lastAckSync = now;
    await writeAck(this.opts.dir, this.ackSeq, sync);
    while (this.segments.length > 0) {
      const oldest = this.segments[0] as Segment;
      if (oldest.endSeq > this.ackSeq || this.active?.seg === oldest) break;
      this.segments.shift();
      if (this.readBuf?.seg === oldest) this.readBuf = null;
      if (this.cursor?.seg === oldest) this.cursor = null;
      await rm(oldest.path, { force: true });
    }
  }

  /** Flushes what is staged and closes the files. Appends after close() are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.flushing;
    await this.closeActive();
    this.logDrops();
  }
}

async function readAck(path: string, opts: QueueOptions): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const seq = Number(text.trim());
  if (!Number.isSafeInteger(seq) || seq < 0) {
    // Written atomically, so only a hand edit gets here: sending everything again loses nothing.
    opts.log.warn({ remote: opts.remote, path }, 'remote write queue: unreadable acknowledged position; sending the whole queue again');
    return 0;
  }
  return seq;
}

/** Writes the acknowledged position atomically: temporary file (fsynced when `sync`), rename. */
async function writeAck(dir: string, seq: number, sync: boolean): Promise<void> {
  const tmp = join(dir, 'ack.tmp');
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.write(`${seq}\n`);
    if (sync) await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, 'ack'));
}
