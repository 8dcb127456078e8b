/**
 * The minutes of one history line, in typed arrays shared in step by every line of a History:
 * slot = minute % capacity. A slot holds `targets` (0: no data that minute), `up`, and the
 * latency ratio in hundredths (NO_LATENCY: none). 6 bytes per minute: a line of 7 days
 * (10,080 minutes) is 60 KiB, whatever the number of targets behind it.
 */
export const NO_LATENCY = 0xffff;
/** The largest latency ratio a slot can hold (a higher one is stored as this). */
export const MAX_LATENCY_RATIO = (NO_LATENCY - 1) / 100;
const MAX_COUNT = 0xffff;

export class MinuteRing {
  readonly targets: Uint16Array;
  readonly up: Uint16Array;
  readonly latency: Uint16Array;

  constructor(readonly capacity: number) {
    this.targets = new Uint16Array(capacity);
    this.up = new Uint16Array(capacity);
    this.latency = new Uint16Array(capacity).fill(NO_LATENCY);
  }

  /** Overwrites the minute's slot (the caller keeps `minute` inside the ring's window). */
  set(minute: number, targets: number, up: number, latencyRatio: number | null): void {
    const i = minute % this.capacity;
    this.targets[i] = Math.min(targets, MAX_COUNT);
    this.up[i] = Math.min(up, targets, MAX_COUNT);
    this.latency[i] = latencyRatio === null || !Number.isFinite(latencyRatio) ? NO_LATENCY : Math.round(Math.min(Math.max(latencyRatio, 0), MAX_LATENCY_RATIO) * 100);
  }

  /** Empties the slots of minutes from..to (inclusive); at most the whole ring. */
  clear(from: number, to: number): void {
    if (to < from) return;
    const n = Math.min(to - from + 1, this.capacity);
    for (let k = 0; k < n; k++) {
      const i = (from + k) % this.capacity;
      this.targets[i] = 0;
      this.up[i] = 0;
      this.latency[i] = NO_LATENCY;
    }
  }

  targetsAt(minute: number): number {
    return this.targets[minute % this.capacity] ?? 0;
  }

  upAt(minute: number): number {
    return this.up[minute % this.capacity] ?? 0;
  }

  latencyAt(minute: number): number | null {
    const v = this.latency[minute % this.capacity] ?? NO_LATENCY;
    return v === NO_LATENCY ? null : v / 100;
  }
}
