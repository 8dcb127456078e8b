import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { paced, RateLimiter } from '../../../src/blocks/rate.js';

describe('paced', () => {
  it('waits for the limiter, and leaves no abort listener behind once a wait is over', async () => {
    const abort = new AbortController();
    // 1000 a second with its one-second burst used up: each send waits about 1 ms.
    const limiter = new RateLimiter(1000);
    for (let i = 0; i < 1000; i++) limiter.reserve();
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await paced([limiter], abort.signal);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
  });

  it('an abort ends a wait at once', async () => {
    const abort = new AbortController();
    const limiter = new RateLimiter(1);
    limiter.reserve();
    const waiting = paced([limiter], abort.signal);
    abort.abort();
    const t0 = performance.now();
    await waiting;
    expect(performance.now() - t0).toBeLessThan(500);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
  });
});
