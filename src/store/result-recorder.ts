import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { ProbeResult } from '../probers/types.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, DIR_MODE, FILE_MODE } from './event-store.js';
import type { RecordedVantage } from './result-schema.js';
import { shiftFiles } from './rotation.js';

export { readResults, ResultLineError } from './results-reader.js';

/** The file in the storage dir that `storage.record_results: true` writes. */
export const RESULTS_FILE = 'results.jsonl';
/** Rotated generations are results.1.jsonl (newest) ... results.<maxFiles>.jsonl. */
const RESULTS_BASE = 'results';

/** The same size budget as the event log's (events.jsonl). */
export interface ResultRecorderOptions {
  /** Size at which results.jsonl is rotated; default 16 MiB. */
  maxBytes?: number;
  /** Rotated files kept; default 5 (so at most about 6 x 16 MiB in all). */
  maxFiles?: number;
  /**
   * The vantage (the config's `vantage:`) written as `vantage` on every line, so that `replay`
   * credits the events to the vantage that recorded them. The daemon always passes it.
   */
  vantage?: RecordedVantage;
}
/** Flush at least this often while results arrive. */
const FLUSH_INTERVAL_MS = 1_000;
/** Flush at once when this much is buffered (counted in UTF-16 units: cheap, close enough). */
const FLUSH_BYTES = 64 * 1024;
/** While a slow disk holds a flush, buffer at most this much; beyond it results are dropped. */
const MAX_BUFFERED = 8 * 1024 * 1024;

/**
 * Records every ProbeResult as one JSON line in `results.jsonl`, with the vantage it was seen
 * from (`vantage`, when given), so real incidents can be replayed. Sits on the per-probe path:
 * write() only buffers; lines go to disk in batches at most every ~1 s or 64 KiB, one batch at a time. Disk failures never reach the caller: the
 * first one is logged, the affected results are dropped and counted, and later batches retry.
 * Not fsynced per batch (losing the last second on a crash is acceptable); close() syncs.
 * Bounded like the event log: a batch that would take results.jsonl past maxBytes first rotates
 * it (results.jsonl -> results.1.jsonl -> ..., the oldest beyond maxFiles deleted).
 */
export class ResultRecorder {
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The batch being written, if any; batches never overlap. */
  private inFlight: Promise<void> | null = null;
  private closed = false;
  private failed = false;
  /** After a failed write the file may end in a partial line; the next batch starts on a new line. */
  private needsNewline = false;
  private droppedCount = 0;

  private constructor(
    private handle: FileHandle,
    private readonly dir: string,
    private readonly path: string,
    private readonly log: Logger,
    /** Bytes in results.jsonl now. */
    private size: number,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
    /** `,"vantage":{...}}`: what closes every line instead of the result's own `}` (empty: no vantage). */
    private readonly lineEnd: string,
  ) {}

  /** Creates dir if needed (0750) and opens `results.jsonl` (0640) for appending; rejects with a clear message if it cannot. */
  static async open(dir: string, log: Logger, opts: ResultRecorderOptions = {}): Promise<ResultRecorder> {
    const path = join(dir, RESULTS_FILE);
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
    if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    if (!Number.isInteger(maxFiles) || maxFiles < 1) throw new RangeError(`maxFiles must be an integer >= 1, got ${maxFiles}`);
    try {
      await mkdir(dir, { recursive: true, mode: DIR_MODE });
      const handle = await open(path, 'a', FILE_MODE);
      const lineEnd = opts.vantage === undefined ? '' : `,"vantage":${JSON.stringify(recordedVantage(opts.vantage))}}`;
      return new ResultRecorder(handle, dir, path, log, (await handle.stat()).size, maxBytes, maxFiles, lineEnd);
    } catch (err) {
      throw new Error(`cannot open results file ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Results dropped so far (disk failures, a full buffer, or writes after close). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Buffers one result. Never throws and never waits for the disk. */
  write(result: ProbeResult): void {
    if (this.closed || this.bufferedBytes >= MAX_BUFFERED) {
      this.droppedCount++;
      return;
    }
    let line: string;
    try {
      const json = JSON.stringify(result);
      // Per-probe path: the vantage, serialized once, replaces the closing brace (no copy of the result).
      line = this.lineEnd === '' ? `${json}\n` : `${json.slice(0, -1)}${this.lineEnd}\n`;
    } catch {
      this.droppedCount++;
      return;
    }
    this.buffer.push(line);
    this.bufferedBytes += line.length;
    if (this.bufferedBytes >= FLUSH_BYTES) this.flushSoon(0);
    else this.flushSoon(FLUSH_INTERVAL_MS);
  }

  /** Writes what is buffered, waits for it, syncs and closes the file. Never rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    while (this.inFlight !== null || this.buffer.length > 0) await (this.inFlight ?? this.flush());
    try {
      await this.handle.datasync();
    } catch {
      // Already reported by flush if the disk is failing.
    }
    try {
      await this.handle.close();
    } catch (err) {
      this.log.warn({ path: this.path, error: (err as Error).message }, 'results file close failed');
    }
  }

  /** results.jsonl becomes results.1.jsonl (older ones shift, the oldest beyond maxFiles goes); a new one is opened. */
  private async rotate(): Promise<void> {
    await this.handle.datasync();
    await this.handle.close();
    try {
      await shiftFiles(this.dir, this.maxFiles, RESULTS_BASE);
    } finally {
      // Whatever the shift did, keep a file to append to (the old one when it could not move).
      this.handle = await open(this.path, 'a', FILE_MODE);
      this.size = (await this.handle.stat()).size;
    }
    // A partial line from a failed write stays in the rotated file; the new one starts clean.
    this.needsNewline = false;
    this.log.info({ dir: this.dir }, 'results file rotated');
  }

  /** Ensures a flush within delayMs (sooner if one is already due). */
  private flushSoon(delayMs: number): void {
    if (delayMs === 0) {
      this.clearTimer();
      if (this.inFlight === null) void this.flush();
      // Otherwise the batch in flight picks the buffer up when it finishes.
      return;
    }
    if (this.timer !== null || this.inFlight !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Writes the whole buffer as one batch; resolves (never rejects) when done. */
  private flush(): Promise<void> {
    if (this.inFlight !== null || this.buffer.length === 0) return this.inFlight ?? Promise.resolve();
    const lines = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    this.inFlight = this.writeBatch(lines.join(''), lines.length).finally(() => {
      this.inFlight = null;
      // Results that arrived during the write: flush them at once if a batch is full, else on the timer.
      if (this.bufferedBytes >= FLUSH_BYTES || (this.closed && this.buffer.length > 0)) void this.flush();
      else if (this.buffer.length > 0 && !this.closed) this.flushSoon(FLUSH_INTERVAL_MS);
    });
    return this.inFlight;
  }

  private async writeBatch(lines: string, count: number): Promise<void> {
    try {
      if (this.size > 0 && this.size + Buffer.byteLength(lines) > this.maxBytes) await this.rotate();
      const data = (this.needsNewline ? '\n' : '') + lines;
      await this.handle.appendFile(data, 'utf8');
      this.size += Buffer.byteLength(data);
      this.needsNewline = false;
    } catch (err) {
      this.droppedCount += count;
      this.needsNewline = true;
      if (!this.failed) {
        this.failed = true;
        this.log.error({ path: this.path, error: (err as Error).message, dropped: count }, 'writing probe results failed; dropping them');
      }
    }
  }
}

/** Only the fields a recorded vantage has, in a fixed order (the config object may carry more). */
function recordedVantage(v: RecordedVantage): RecordedVantage {
  return { id: v.id, ...(v.country !== undefined ? { country: v.country } : {}), ...(v.asn !== undefined ? { asn: v.asn } : {}) };
}
