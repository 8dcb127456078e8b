import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startAlignedTicker } from '../../../src/scheduler/aligned-ticker.js';

beforeEach(() => vi.useFakeTimers({ now: 1_000_003_250 }));
afterEach(() => vi.useRealTimers());

describe('startAlignedTicker', () => {
  it('ticks at epoch-aligned multiples of the period and passes the tick time', async () => {
    const ticks: number[] = [];
    const t = startAlignedTicker(() => 5000, (at) => ticks.push(at));
    await vi.advanceTimersByTimeAsync(16_000);
    expect(ticks).toEqual([1_000_005_000, 1_000_010_000, 1_000_015_000]);
    t.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ticks).toHaveLength(3);
  });
  it('reads the period before each tick, so a reload takes effect', async () => {
    let period = 5000;
    const ticks: number[] = [];
    const t = startAlignedTicker(() => period, (at) => {
      ticks.push(at);
      period = 2000;
    });
    await vi.advanceTimersByTimeAsync(6_000);
    expect(ticks).toEqual([1_000_005_000, 1_000_006_000, 1_000_008_000]);
    t.stop();
  });
  it('never ticks the same instant twice when a timer fires before the wall clock reaches it', async () => {
    // Node computes a timer's due time from the event loop's cached time, which lags the wall
    // clock by whatever ran since the loop last read it: the timer can fire a few ms before
    // Date.now() reaches the slot. The tick must still move on to the next slot.
    let lag = 0;
    const ticks: number[] = [];
    const t = startAlignedTicker(
      () => 5000,
      (at) => {
        ticks.push(at);
        lag = ticks.length === 1 ? 2 : 0;
      },
      () => Date.now() - lag,
    );
    await vi.advanceTimersByTimeAsync(12_000);
    expect(ticks).toEqual([1_000_005_000, 1_000_010_000, 1_000_015_000].filter((x) => x <= 1_000_003_250 + 12_000));
    t.stop();
  });
});
