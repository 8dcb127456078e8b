import type { Stats } from 'node:fs';
import { mkdir, open as openFile, stat, type FileHandle } from 'node:fs/promises';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { join } from 'node:path';
import { compareTimeline, type DisruptionEvent } from '../detect/events.js';
import type { Logger } from '../log.js';
import { readEventFile } from './event-file.js';
import { parseEvent } from './event-schema.js';
import { CURRENT_FILE, listRotated, rotatedFile, shiftFiles } from './rotation.js';
import { syncDir } from './sync-dir.js';
import { prepareStorageDir } from './storage-dir.js';

export interface EventStoreOptions {
  dir: string;
  log: Logger;
  /** Size at which events.jsonl is rotated; default 16 MiB. */
  maxBytes?: number;
  /** Rotated files kept (events.1.jsonl ... events.N.jsonl); default 5, at least 1. */
  maxFiles?: number;
  /** Called once per failed storage operation (for lookout_storage_errors_total). */
  onError?: (op: StorageOp) => void;
  /** First retry after a failed write, doubling up to retryMaxMs; default 1 s. */
  retryMinMs?: number;
  /** Longest wait between retries; default 30 s. */
  retryMaxMs?: number;
  /** How often the log file is checked (deleted? replaced?) while idle; default 10 s. */
  checkEveryMs?: number;
  /** Events waiting to be written, at most; beyond it the oldest waiting one is dropped. Default 10,000. */
  maxPending?: number;
}

/** The storage step that failed: checking/recreating the file, writing, syncing, rotating. */
export type StorageOp = 'check' | 'write' | 'sync' | 'rotate';

/** What the store can say about its disk, for metrics. */
export interface StorageStatus {
  /** False from a failed storage operation until everything waiting is written. */
  healthy: boolean;
  /** Event snapshots held in memory, not yet durable. */
  pending: number;
}

export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 5;
/** Owner read-write, group read (a log shipper's group), nothing for others. */
export const FILE_MODE = 0o640;
/** Owner all, group read and enter, nothing for others. */
export const DIR_MODE = 0o750;

/** One snapshot waiting to be written, and the record() calls waiting for it. */
interface Pending {
  snapshot: DisruptionEvent;
  line: Buffer;
  writing: boolean;
  waiters: { resolve: () => void; reject: (err: Error) => void }[];
}

/**
 * The append-only event log: `events.jsonl` in the storage dir, one full DisruptionEvent snapshot
 * per line; the last line for an id wins. Older lines rotate into events.1.jsonl (newest) ...
 * events.N.jsonl (oldest). One process owns a directory at a time.
 *
 * A failing disk loses nothing while the process runs: record() keeps the event in memory at
 * once (all() and open() show it), queues its line and writes the queue in order; when a write
 * fails (disk full, read-only, I/O error) the lines stay queued, status() turns unhealthy, one
 * error is logged, and the write is retried with backoff until it succeeds. Before every write
 * and every checkEveryMs the store checks that events.jsonl is still the file it has open: a
 * deleted directory or file is recreated and a replaced or truncated one is rewritten, both from
 * the events held in memory; bytes another writer appended are ended with a newline so that
 * they cannot swallow the next line.
 */
export class EventStore {
  private readonly latest = new Map<string, DisruptionEvent>();
  private sorted: DisruptionEvent[] | null = null;
  /** Lines not yet durable, oldest first; at most one not-yet-writing entry per id. */
  private readonly pending: Pending[] = [];
  private readonly pendingById = new Map<string, Pending>();
  private closed = false;
  /** Set while a write may have left a partial line; the next append truncates it away first. */
  private dirty = false;
  /** Bytes of open events carried into the current file at rotation; rotating again needs more than that. */
  private carriedBytes = 0;
  /** Inode of the file the handle refers to, to notice it being deleted or replaced. */
  private ino: number | null = null;
  private healthy = true;
  private failedSince: number | null = null;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly checkTimer: NodeJS.Timeout;
  /** The running drain, if any; `again` asks it to run once more when it ends. */
  private draining: Promise<void> | null = null;
  private again = false;
  private op: StorageOp = 'check';

  private constructor(
    private readonly dir: string,
    private readonly log: Logger,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
    private readonly tuning: { retryMinMs: number; retryMaxMs: number; maxPending: number; onError: (op: StorageOp) => void },
    checkEveryMs: number,
    private handle: FileHandle | null,
    private size: number,
  ) {
    this.retryMs = tuning.retryMinMs;
    this.checkTimer = setInterval(() => this.kick(), checkEveryMs);
    this.checkTimer.unref();
  }

  /**
   * Creates dir if needed (mode 0750), reads every log file back (oldest rotated file first, then
   * events.jsonl). A torn last line (kill -9 during a write) is skipped with a warning and the
   * file is truncated back to the last complete line before appending; any other unparsable or
   * invalid line is skipped with a warning naming file and line number; never throws for bad
   * content. Rejects for I/O errors (a StorageDirError when the directory cannot be created or
   * written: prepareStorageDir; files not readable) and for invalid options.
   */
  static async open(opts: EventStoreOptions): Promise<EventStore> {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
    if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    // At least one rotated file: open events then always exist in some file while a rotation
    // is under way.
    if (!Number.isInteger(maxFiles) || maxFiles < 1) throw new RangeError(`maxFiles must be an integer >= 1, got ${maxFiles}`);
    const maxPending = opts.maxPending ?? 10_000;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be an integer >= 1, got ${maxPending}`);
    const { dir, log } = opts;
    await prepareStorageDir(dir, DIR_MODE);

    const files = [...(await listRotated(dir)).map((n) => rotatedFile(n)), CURRENT_FILE].map((f) => join(dir, f));
    const events = new Map<string, DisruptionEvent>();
    let current = { completeBytes: 0, torn: false };
    for (const file of files) {
      const content = await readEventFile(file, log);
      for (const event of content.events) events.set(event.id, event);
      current = content;
    }

    const handle = await openFile(join(dir, CURRENT_FILE), 'a', FILE_MODE);
    if (current.torn) {
      await handle.truncate(current.completeBytes);
      await handle.datasync();
    }
    await syncDir(dir);
    const tuning = {
      retryMinMs: opts.retryMinMs ?? 1000,
      retryMaxMs: opts.retryMaxMs ?? 30_000,
      maxPending,
      onError: opts.onError ?? (() => undefined),
    };
    const store = new EventStore(dir, log, maxBytes, maxFiles, tuning, opts.checkEveryMs ?? 10_000, handle, current.completeBytes);
    for (const [id, event] of events) store.latest.set(id, event);
    store.ino = (await handle.stat()).ino;
    log.info({ dir, events: store.latest.size, open: store.open().length }, 'event store opened');
    return store;
  }

  /** Every known event, latest version of each id, ordered by started_at then id. Copies. */
  all(): DisruptionEvent[] {
    return this.ordered().map((e) => structuredClone(e));
  }

  /** Events with ended_at === null, in the order of all(). Copies. */
  open(): DisruptionEvent[] {
    return this.ordered()
      .filter((e) => e.ended_at === null)
      .map((e) => structuredClone(e));
  }

  /** Whether the disk takes writes, and how many events wait for it. */
  status(): StorageStatus {
    return { healthy: this.healthy, pending: this.pending.length };
  }

  /**
   * Remembers the event's current state at once and queues it as one line; resolves once that
   * line (or a later state of the same event) is durable (write + fsync), which on a failing
   * disk is when the disk is back. The state is captured when called, so the caller may keep
   * mutating its object. Lines are written in order, never interleaved. Rotates first when the
   * file would exceed maxBytes: events.jsonl -> events.1.jsonl -> ... (oldest beyond maxFiles
   * deleted), and the new file starts with the current state of every still-open event so that
   * no open event lives only in a file about to be deleted. Rejects for an invalid event (a bug),
   * after close(), when close() came before the line could be written, and when the event was
   * dropped from a full queue (maxPending).
   */
  record(event: DisruptionEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    const parsed = parseEvent(event);
    if (!parsed.ok) return Promise.reject(new TypeError(`invalid event ${String(event.id)}: ${parsed.message}`));
    const snapshot = parsed.event;
    const line = Buffer.from(`${JSON.stringify(snapshot)}\n`, 'utf8');
    this.latest.set(snapshot.id, snapshot);
    this.sorted = null;
    const done = new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      const queued = this.pendingById.get(snapshot.id);
      if (queued !== undefined && !queued.writing) {
        // Only the last line of an id counts: replace the queued state rather than add a line.
        queued.snapshot = snapshot;
        queued.line = line;
        queued.waiters.push(waiter);
        return;
      }
      const entry: Pending = { snapshot, line, writing: false, waiters: [waiter] };
      this.pending.push(entry);
      this.pendingById.set(snapshot.id, entry);
      if (this.pending.length > this.tuning.maxPending) this.dropOldest();
    });
    this.kick();
    return done;
  }

  /**
   * Stops retrying, makes one last attempt to write what is queued, then closes the file.
   * Events still unwritten are logged as lost and their record() calls reject. Later record()
   * calls reject.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.checkTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.draining;
    if (this.pending.length > 0) await this.drain();
    if (this.pending.length > 0) {
      this.log.error({ dir: this.dir, events: this.pending.map((p) => p.snapshot.id) }, 'events not written at shutdown: the disk did not take them');
      for (const entry of this.pending.splice(0)) for (const w of entry.waiters) w.reject(new Error('event store closed before the event could be written'));
      this.pendingById.clear();
    }
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
  }

  /** Starts a drain, or asks the running one to go once more. */
  private kick(): void {
    if (this.closed) return;
    if (this.draining !== null) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Checks the file, then writes the queue in order; on failure schedules a retry. Never rejects. */
  private async drain(): Promise<void> {
    try {
      this.op = 'check';
      await this.ensureFile();
      while (this.pending.length > 0) {
        const entry = this.pending[0] as Pending;
        entry.writing = true;
        await this.append(entry.snapshot, entry.line);
        this.pending.shift();
        if (this.pendingById.get(entry.snapshot.id) === entry) this.pendingById.delete(entry.snapshot.id);
        for (const w of entry.waiters) w.resolve();
      }
      this.recovered();
    } catch (err) {
      const head = this.pending[0];
      if (head !== undefined) head.writing = false;
      this.failed(err as NodeJS.ErrnoException);
    }
  }

  private failed(err: NodeJS.ErrnoException): void {
    this.tuning.onError(this.op);
    if (this.healthy) {
      this.healthy = false;
      this.failedSince = Date.now();
      this.log.error(
        { dir: this.dir, op: this.op, code: err.code, error: err.message, pending: this.pending.length },
        'event store cannot write; holding events in memory and retrying',
      );
    }
    if (this.closed || this.retryTimer !== null) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.tuning.retryMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, wait);
    this.retryTimer.unref();
  }

  private recovered(): void {
    this.retryMs = this.tuning.retryMinMs;
    if (this.healthy) return;
    this.healthy = true;
    this.log.warn({ dir: this.dir, failed_for_ms: Date.now() - (this.failedSince ?? Date.now()) }, 'event store writable again; held events written');
    this.failedSince = null;
  }

  private dropOldest(): void {
    const index = this.pending.findIndex((p) => !p.writing);
    if (index < 0) return;
    const [entry] = this.pending.splice(index, 1) as [Pending];
    if (this.pendingById.get(entry.snapshot.id) === entry) this.pendingById.delete(entry.snapshot.id);
    this.log.error({ dir: this.dir, event: entry.snapshot.id, max_pending: this.tuning.maxPending }, 'event dropped: too many events waiting for the disk');
    for (const w of entry.waiters) w.reject(new Error(`event ${entry.snapshot.id} dropped: more than ${this.tuning.maxPending} events waiting for the disk`));
  }

  /**
   * Makes sure events.jsonl is the file the handle writes to and holds what it should: recreates
   * it (and the directory) when deleted or replaced, rewrites the events when it was truncated,
   * ends a foreign partial line, and cuts a partial line of our own failed write.
   */
  private async ensureFile(): Promise<void> {
    const path = join(this.dir, CURRENT_FILE);
    let onDisk: Stats | null;
    try {
      onDisk = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      onDisk = null;
    }
    if (this.handle === null || onDisk === null || onDisk.ino !== this.ino) {
      await this.recreate(onDisk === null ? 'missing' : 'replaced');
      return;
    }
    const handle = this.handle;
    if (onDisk.size > this.size && this.dirty) {
      this.op = 'write';
      await handle.truncate(this.size);
      this.dirty = false;
    } else if (onDisk.size < this.size) {
      this.log.warn({ file: path, expected_bytes: this.size, bytes: onDisk.size }, 'event log shorter than written; writing the events again');
      this.size = onDisk.size;
      this.dirty = false;
      await this.writeAll(handle);
    } else if (onDisk.size > this.size) {
      this.log.warn({ file: path, bytes: onDisk.size - this.size }, 'event log changed by another writer');
      this.size = onDisk.size;
      await this.endLine(handle, path);
    }
  }

  /** Opens events.jsonl anew (creating the directory) and writes every known event into it. */
  private async recreate(why: 'missing' | 'replaced'): Promise<void> {
    const old = this.handle;
    this.handle = null;
    this.ino = null;
    await old?.close().catch(() => undefined);
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    const path = join(this.dir, CURRENT_FILE);
    const handle = await this.reopen();
    if (this.latest.size === 0 && this.size === 0) return;
    this.log.warn({ file: path, why, events: this.latest.size }, 'event log was deleted or replaced; writing the events held in memory');
    await this.endLine(handle, path);
    await this.writeAll(handle);
    await syncDir(this.dir);
  }

  /** Appends every known event (its latest state), so the file alone holds the whole timeline. */
  private async writeAll(handle: FileHandle): Promise<void> {
    this.op = 'write';
    const all = this.ordered();
    if (all.length > 0) await this.writeDurably(handle, Buffer.from(all.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8'));
    // What was just written is one copy of the timeline: rotating it away at once would gain nothing.
    this.carriedBytes = this.size;
  }

  /** Writes a newline when the file does not end with one (another writer's partial line). */
  private async endLine(handle: FileHandle, path: string): Promise<void> {
    if (this.size === 0) return;
    const last = Buffer.alloc(1);
    const reader = await openFile(path, 'r');
    try {
      await reader.read(last, 0, 1, this.size - 1);
    } finally {
      await reader.close();
    }
    if (last[0] !== 0x0a) await this.writeDurably(handle, Buffer.from('\n'));
  }

  private async append(snapshot: DisruptionEvent, line: Buffer): Promise<void> {
    let handle = this.handle ?? (await this.reopen());
    if (this.dirty) {
      this.op = 'write';
      await handle.truncate(this.size);
      this.dirty = false;
    }
    if (this.size > this.carriedBytes && this.size + line.length > this.maxBytes) {
      this.op = 'rotate';
      handle = await this.rotate(snapshot.id);
    }
    await this.writeDurably(handle, line);
  }

  /** Writes at the end of the file and syncs; on failure the next append cuts the partial line. */
  private async writeDurably(handle: FileHandle, data: Buffer): Promise<void> {
    this.op = 'write';
    this.dirty = true;
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    this.op = 'sync';
    await handle.datasync();
    this.dirty = false;
    this.size += data.length;
  }

  private async rotate(recordingId: string): Promise<FileHandle> {
    const old = this.handle;
    this.handle = null;
    this.ino = null;
    await old?.close();
    await shiftFiles(this.dir, this.maxFiles);
    const handle = await this.reopen();
    // The event being recorded is written right after; its older state need not be carried.
    const carried = this.ordered().filter((e) => e.ended_at === null && e.id !== recordingId);
    if (carried.length > 0) {
      await this.writeDurably(handle, Buffer.from(carried.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8'));
    }
    this.carriedBytes = this.size;
    await syncDir(this.dir);
    this.log.info({ dir: this.dir, carried: carried.length }, 'event log rotated');
    return handle;
  }

  /** Opens events.jsonl for appending (after a rotation, or to recreate it). */
  private async reopen(): Promise<FileHandle> {
    const handle = await openFile(join(this.dir, CURRENT_FILE), 'a', FILE_MODE);
    const st = await handle.stat();
    this.handle = handle;
    this.ino = st.ino;
    this.size = st.size;
    this.carriedBytes = 0;
    this.dirty = false;
    return handle;
  }

  private ordered(): DisruptionEvent[] {
    if (this.sorted === null) {
      this.sorted = [...this.latest.values()].sort(compareTimeline);
    }
    return this.sorted;
  }
}
