/**
 * Pacing: a rate limiter by virtual scheduling (each send reserves the next slot of 1/rate
 * seconds), so bursts never exceed the rate and idle time is not saved up beyond one second.
 * The clock is injected.
 */
export class RateLimiter {
  private next = -Infinity;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Reserves one send; resolves with how many ms the caller must wait before sending (0: now). */
  reserve(): number {
    const gap = 1000 / this.perSecond;
    const now = this.now();
    // At most one second of unused rate is kept as a burst.
    const slot = Math.max(this.next, now - 1000 + gap);
    this.next = slot + gap;
    return Math.max(0, slot - now);
  }
}

/** Waits for a slot of each limiter in turn. */
export async function paced(limiters: readonly RateLimiter[], signal?: AbortSignal): Promise<void> {
  for (const limiter of limiters) {
    const wait = limiter.reserve();
    if (wait > 0) await new Promise<void>((resolve) => {
      // The listener goes when the wait ends either way: the signal lives as long as the stage,
      // and discovery waits here for every echo (a listener left each time is a leak).
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
