/**
 * The minutes of one history line: slot = minute % capacity. A slot holds `targets` (0: no data
 * that minute), `up`, and the latency ratio in hundredths (NO_LATENCY: none). 6 bytes per
 * minute: a line of 7 days (10,080 minutes) is 60 KiB once full, whatever the number of targets
 * behind it. The slots are kept in blocks of BLOCK_MINUTES made when first written, so a line
 * costs memory as its minutes are recorded, not all at once when it appears (a catalog of
 * 50,000 targets makes 2,048 lines within its first evaluation: 124 MiB at once otherwise).
 */
export const NO_LATENCY = 0xffff;
/** The largest latency ratio a slot can hold (a higher one is stored as this). */
export const MAX_LATENCY_RATIO = (NO_LATENCY - 1) / 100;
const MAX_COUNT = 0xffff;
/** Minutes per block: 360 bytes. */
export const BLOCK_MINUTES = 60;

/** One block: targets in [0, B), up in [B, 2B), latency in [2B, 3B). */
function newBlock(): Uint16Array {
  const block = new Uint16Array(3 * BLOCK_MINUTES);
  block.fill(NO_LATENCY, 2 * BLOCK_MINUTES);
  return block;
}

export class MinuteRing {
  /** undefined: a block never written, all of its slots empty. */
  private readonly blocks: (Uint16Array | undefined)[];

  constructor(readonly capacity: number) {
    this.blocks = new Array<Uint16Array | undefined>(Math.ceil(capacity / BLOCK_MINUTES)).fill(undefined);
  }

  /** Blocks made so far (each BLOCK_MINUTES slots). */
  get blocksInUse(): number {
    let n = 0;
    for (const b of this.blocks) if (b) n++;
    return n;
  }

  /** Overwrites the minute's slot (the caller keeps `minute` inside the ring's window). */
  set(minute: number, targets: number, up: number, latencyRatio: number | null): void {
    const i = minute % this.capacity;
    const b = Math.floor(i / BLOCK_MINUTES);
    const block = (this.blocks[b] ??= newBlock());
    const k = i - b * BLOCK_MINUTES;
    block[k] = Math.min(targets, MAX_COUNT);
    block[BLOCK_MINUTES + k] = Math.min(up, targets, MAX_COUNT);
    block[2 * BLOCK_MINUTES + k] = latencyRatio === null || !Number.isFinite(latencyRatio) ? NO_LATENCY : Math.round(Math.min(Math.max(latencyRatio, 0), MAX_LATENCY_RATIO) * 100);
  }

  /** Empties the slots of minutes from..to (inclusive); at most the whole ring. */
  clear(from: number, to: number): void {
    if (to < from) return;
    const n = Math.min(to - from + 1, this.capacity);
    for (let m = 0; m < n; m++) {
      const i = (from + m) % this.capacity;
      const b = Math.floor(i / BLOCK_MINUTES);
      const block = this.blocks[b];
      if (!block) {
        // Nothing to empty up to the end of this block.
        m += BLOCK_MINUTES - 1 - (i - b * BLOCK_MINUTES);
        continue;
      }
      const k = i - b * BLOCK_MINUTES;
      block[k] = 0;
      block[BLOCK_MINUTES + k] = 0;
      block[2 * BLOCK_MINUTES + k] = NO_LATENCY;
    }
  }

  private slot(minute: number, part: number): number | undefined {
    const i = minute % this.capacity;
    const b = Math.floor(i / BLOCK_MINUTES);
    return this.blocks[b]?.[part * BLOCK_MINUTES + i - b * BLOCK_MINUTES];
  }

  targetsAt(minute: number): number {
    return this.slot(minute, 0) ?? 0;
  }

  upAt(minute: number): number {
    return this.slot(minute, 1) ?? 0;
  }

  latencyAt(minute: number): number | null {
    const v = this.slot(minute, 2) ?? NO_LATENCY;
    return v === NO_LATENCY ? null : v / 100;
  }
}
