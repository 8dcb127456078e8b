import { mkdir, open as openFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTimeline, type DisruptionEvent } from '../detect/events.js';
import type { Logger } from '../log.js';
import { readEventFile } from './event-file.js';
import { parseEvent } from './event-schema.js';
import { CURRENT_FILE, listRotated, rotatedFile, shiftFiles, syncDir } from './rotation.js';

export interface EventStoreOptions {
  dir: string;
  log: Logger;
  /** Size at which events.jsonl is rotated; default 16 MiB. */
  maxBytes?: number;
  /** Rotated files kept (events.1.jsonl ... events.N.jsonl); default 5, at least 1. */
  maxFiles?: number;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_FILES = 5;

/**
 * The append-only event log: `events.jsonl` in the storage dir, one full DisruptionEvent snapshot
 * per line; the last line for an id wins. Older lines rotate into events.1.jsonl (newest) ...
 * events.N.jsonl (oldest). One process owns a directory at a time.
 */
export class EventStore {
  private readonly latest = new Map<string, DisruptionEvent>();
  private sorted: DisruptionEvent[] | null = null;
  /** Tail of the write queue; never rejects, so a failed write does not block later ones. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** Set while a write may have left a partial line; the next append truncates it away first. */
  private dirty = false;
  /** Bytes of open events carried into the current file at rotation; rotating again needs more than that. */
  private carriedBytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly log: Logger,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
    private handle: FileHandle | null,
    private size: number,
  ) {}

  /**
   * Creates dir if needed, reads every log file back (oldest rotated file first, then
   * events.jsonl). A torn last line (kill -9 during a write) is skipped with a warning and the
   * file is truncated back to the last complete line before appending; any other unparsable or
   * invalid line is skipped with a warning naming file and line number; never throws for bad
   * content. Rejects for I/O errors (directory not creatable, files not readable) and for
   * invalid options.
   */
  static async open(opts: EventStoreOptions): Promise<EventStore> {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
    if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    // At least one rotated file: open events then always exist in some file while a rotation
    // is under way.
    if (!Number.isInteger(maxFiles) || maxFiles < 1) throw new RangeError(`maxFiles must be an integer >= 1, got ${maxFiles}`);
    const { dir, log } = opts;
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create event store directory ${dir}: ${(err as Error).message}`, { cause: err });
    }

    const files = [...(await listRotated(dir)).map(rotatedFile), CURRENT_FILE].map((f) => join(dir, f));
    const store = new EventStore(dir, log, maxBytes, maxFiles, null, 0);
    let current = { completeBytes: 0, torn: false };
    for (const file of files) {
      const content = await readEventFile(file, log);
      for (const event of content.events) store.latest.set(event.id, event);
      current = content;
    }

    const handle = await openFile(join(dir, CURRENT_FILE), 'a');
    if (current.torn) {
      await handle.truncate(current.completeBytes);
      await handle.datasync();
    }
    await syncDir(dir);
    store.handle = handle;
    store.size = current.completeBytes;
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

  /**
   * Appends the event's current state as one line and makes it durable (write + fsync) before
   * resolving. The state is captured when called, so the caller may keep mutating its object.
   * Writes are serialised (a queue), never interleaved. Rotates first when the file would exceed
   * maxBytes: events.jsonl -> events.1.jsonl -> ... (oldest beyond maxFiles deleted), and the new
   * file starts with the current state of every still-open event so that no open event lives
   * only in a file about to be deleted. Rejects for an invalid event (a bug), after close(), and
   * for disk errors; the event is then not remembered and later records still proceed.
   */
  record(event: DisruptionEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    const parsed = parseEvent(event);
    if (!parsed.ok) return Promise.reject(new TypeError(`invalid event ${String(event.id)}: ${parsed.message}`));
    const snapshot = parsed.event;
    const line = Buffer.from(`${JSON.stringify(snapshot)}\n`, 'utf8');
    const task = this.queue.then(() => this.append(snapshot, line));
    this.queue = task.catch(() => undefined);
    return task;
  }

  /** Waits for queued writes, then closes the file. Later record() calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private async append(snapshot: DisruptionEvent, line: Buffer): Promise<void> {
    let handle = this.handle ?? (await this.reopen());
    if (this.dirty) {
      await handle.truncate(this.size);
      this.dirty = false;
    }
    if (this.size > this.carriedBytes && this.size + line.length > this.maxBytes) {
      handle = await this.rotate(snapshot.id);
    }
    await this.writeDurably(handle, line);
    this.latest.set(snapshot.id, snapshot);
    this.sorted = null;
  }

  /** Writes at the end of the file and syncs; on failure the next append cuts the partial line. */
  private async writeDurably(handle: FileHandle, data: Buffer): Promise<void> {
    this.dirty = true;
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    await handle.datasync();
    this.dirty = false;
    this.size += data.length;
  }

  private async rotate(recordingId: string): Promise<FileHandle> {
    const old = this.handle;
    this.handle = null;
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

  /** Opens events.jsonl for appending after a rotation (or a failed one). */
  private async reopen(): Promise<FileHandle> {
    const handle = await openFile(join(this.dir, CURRENT_FILE), 'a');
    this.handle = handle;
    this.size = (await handle.stat()).size;
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
