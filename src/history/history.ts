/**
 * The 1-minute history (issue 24): per path, per country, per ASN and per category, the
 * eligible targets that reported, how many were up and their median latency ratio, for the
 * last `minutes` minutes (default 7 days and an hour).
 *
 * Fed at each detector evaluation (record()), never from the probe path: the last evaluation
 * of a minute stands for that minute. When a minute is over it is handed to `onMinute` (the
 * history file appends it); on start the file's minutes are put back with load().
 *
 * Bounded: every line is a MinuteRing of 6 bytes a minute (60 KiB for 7 days, taken as its
 * minutes are recorded), and at most `maxLines` lines are kept (default 2,048, so at most
 * 124 MiB; a catalog of 1,000 targets in 60 countries makes about 400 lines, 25 MiB). Lines beyond the cap are not recorded, and
 * `dropped` counts them.
 */
import { keyId, type LineSample } from './aggregate.js';
import { MinuteRing } from './minute-ring.js';
import { MINUTE_MS } from './window.js';
import type { SeriesKey, SeriesLine, SeriesPoint, SeriesQuery, SeriesReader } from './types.js';

export { MINUTE_MS };
export const DEFAULT_HISTORY_MINUTES = 7 * 24 * 60 + 60;
export const DEFAULT_MAX_LINES = 2048;

/** One minute of every line that had data, as the history file stores it. */
export interface MinuteRecord {
  /** The minute's start, ms since the epoch. */
  t: number;
  lines: LineSample[];
}

export interface HistoryOptions {
  minutes?: number;
  maxLines?: number;
  /** Called once per finished minute, with what was recorded for it. */
  onMinute?: (record: MinuteRecord) => void;
}

interface Line {
  key: SeriesKey;
  ring: MinuteRing;
}

export class History implements SeriesReader {
  readonly minutes: number;
  readonly maxLines: number;
  /** Line keys refused because maxLines was reached (each counted once). */
  dropped = 0;
  private readonly lines = new Map<string, Line>();
  private readonly refused = new Set<string>();
  /** The newest minute recorded (minute number since the epoch), null before the first. */
  private head: number | null = null;
  /** The oldest minute ever recorded or loaded: nothing before it is answered, not even as a gap. */
  private start: number | null = null;
  private current: MinuteRecord | null = null;
  private readonly onMinute: ((record: MinuteRecord) => void) | undefined;

  constructor(opts: HistoryOptions = {}) {
    this.minutes = opts.minutes ?? DEFAULT_HISTORY_MINUTES;
    this.maxLines = opts.maxLines ?? DEFAULT_MAX_LINES;
    this.onMinute = opts.onMinute;
  }

  /**
   * Records one evaluation at `at` (ms): its lines replace whatever the same minute held. A
   * time before the newest minute (a clock stepped back) is ignored: the ring only moves forward.
   */
  record(at: number, samples: LineSample[]): void {
    const minute = Math.floor(at / MINUTE_MS);
    if (this.head !== null && minute < this.head) return;
    if (this.head !== null && minute > this.head && this.current) this.onMinute?.(this.current);
    this.put(minute, samples);
    this.current = { t: minute * MINUTE_MS, lines: samples };
  }

  /** Puts back a stored minute (on start, oldest first); never handed to onMinute. */
  load(record: MinuteRecord): void {
    const minute = Math.floor(record.t / MINUTE_MS);
    if (this.head !== null && minute < this.head) return;
    this.put(minute, record.lines);
  }

  /** The minute still being recorded, if any (written by the caller at shutdown). */
  unfinished(): MinuteRecord | null {
    return this.current;
  }

  /** Number of lines held. */
  get size(): number {
    return this.lines.size;
  }

  query(q: SeriesQuery): SeriesLine[] {
    if (this.head === null) return [];
    const first = Math.max(Math.ceil(q.from / MINUTE_MS), this.head - this.minutes + 1, this.start ?? this.head);
    const last = Math.min(Math.ceil(q.to / MINUTE_MS) - 1, this.head);
    if (last < first) return [];
    const out: SeriesLine[] = [];
    for (const line of this.lines.values()) {
      const k = line.key;
      if (q.country !== undefined && k.country !== q.country) continue;
      if (q.asn !== undefined && k.asn !== q.asn) continue;
      if (q.category !== undefined && k.category !== q.category) continue;
      if (q.path !== undefined && k.path !== q.path) continue;
      const points = pointsOf(line.ring, first, last);
      if (points) out.push({ key: { ...k }, points });
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  private put(minute: number, samples: LineSample[]): void {
    this.start ??= minute;
    if (this.head === null || minute > this.head) {
      const from = this.head === null ? minute - this.minutes + 1 : this.head + 1;
      for (const line of this.lines.values()) line.ring.clear(from, minute);
      this.head = minute;
    } else {
      // The same minute again: lines it no longer has are empty for it.
      for (const line of this.lines.values()) line.ring.clear(minute, minute);
    }
    for (const s of samples) {
      const line = this.lineFor(s.key);
      line?.ring.set(minute, s.targets, s.up, s.latency_ratio);
    }
  }

  private lineFor(key: SeriesKey): Line | null {
    const id = keyId(key);
    const line = this.lines.get(id);
    if (line) return line;
    if (this.lines.size >= this.maxLines) {
      if (!this.refused.has(id)) {
        this.refused.add(id);
        this.dropped++;
      }
      return null;
    }
    const made = { key: { ...key }, ring: new MinuteRing(this.minutes) };
    this.lines.set(id, made);
    return made;
  }
}

/** Every minute first..last of the ring (gaps as targets 0 and nulls); null when all are gaps. */
function pointsOf(ring: MinuteRing, first: number, last: number): SeriesPoint[] | null {
  const points: SeriesPoint[] = [];
  let any = false;
  for (let m = first; m <= last; m++) {
    const targets = ring.targetsAt(m);
    const up = ring.upAt(m);
    if (targets > 0) any = true;
    points.push({ t: m * MINUTE_MS, targets, up, reachability: targets > 0 ? up / targets : null, latency_ratio: targets > 0 ? ring.latencyAt(m) : null });
  }
  return any ? points : null;
}

/** Path, country, then the country line before its ASN lines before its category lines. */
function compareKeys(a: SeriesKey, b: SeriesKey): number {
  const rank = (k: SeriesKey): number => (k.asn !== null ? 1 : k.category !== null ? 2 : 0);
  return (
    a.path.localeCompare(b.path) ||
    (a.country ?? '').localeCompare(b.country ?? '') ||
    rank(a) - rank(b) ||
    (a.asn ?? 0) - (b.asn ?? 0) ||
    (a.category ?? '').localeCompare(b.category ?? '')
  );
}
