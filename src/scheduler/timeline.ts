import { DueHeap } from './heap.js';

/** An occurrence on the timeline. Setting `cancelled` withdraws it (it is dropped lazily). */
export interface TimedEntry {
  /** Epoch milliseconds. */
  due: number;
  cancelled: boolean;
}

/**
 * A timing wheel of one-second buckets in front of a short sorted list driven by one timer.
 *
 * Entries due after the horizon wait in the bucket of their second; `advance(second)` moves the
 * buckets up to and including `second` into the armed list, so the work per call is proportional
 * to the entries due in those seconds, not to everything scheduled. Armed entries fire at their
 * exact due time (one setTimeout for the earliest), in batches of those due at once.
 */
export class Timeline<E extends TimedEntry> {
  private readonly buckets = new Map<number, E[]>();
  private readonly armed = new DueHeap<E>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Number.POSITIVE_INFINITY;
  private last: number;

  /**
   * @param now clock, epoch milliseconds
   * @param fire called with the live entries that are due (never empty) and the current time
   * @param horizon last second (epoch seconds) already moved into the armed list
   */
  constructor(
    private readonly now: () => number,
    private readonly fire: (due: E[], now: number) => void,
    horizon: number,
  ) {
    this.last = horizon;
  }

  /** Last second (epoch seconds) whose bucket has been armed. */
  get horizon(): number {
    return this.last;
  }

  add(entry: E): void {
    const second = Math.floor(entry.due / 1000);
    if (second <= this.last) {
      this.armed.push(entry);
      this.arm();
      return;
    }
    const bucket = this.buckets.get(second);
    if (bucket) bucket.push(entry);
    else this.buckets.set(second, [entry]);
  }

  /** Arms every bucket up to and including `second` (epoch seconds). */
  advance(second: number): void {
    for (let s = this.last + 1; s <= second; s++) {
      const bucket = this.buckets.get(s);
      if (!bucket) continue;
      this.buckets.delete(s);
      for (const entry of bucket) if (!entry.cancelled) this.armed.push(entry);
    }
    if (second > this.last) this.last = second;
    this.arm();
  }

  /** Drops every entry and timer; the timeline continues from `horizon`. */
  reset(horizon: number): void {
    this.clear();
    this.last = horizon;
  }

  /** Drops every entry and the timer. */
  clear(): void {
    this.buckets.clear();
    this.armed.clear();
    this.disarm();
  }

  private arm(): void {
    let top = this.armed.peek();
    while (top?.cancelled) {
      this.armed.pop();
      top = this.armed.peek();
    }
    if (top === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== null && this.timerDue <= top.due) return;
    this.disarm();
    this.timerDue = top.due;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, top.due - this.now()));
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  private onTimer(): void {
    this.timer = null;
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = this.now();
    const batch: E[] = [];
    for (let top = this.armed.peek(); top !== undefined && top.due <= now; top = this.armed.peek()) {
      this.armed.pop();
      if (!top.cancelled) batch.push(top);
    }
    try {
      if (batch.length > 0) this.fire(batch, now);
    } finally {
      this.arm();
    }
  }
}
