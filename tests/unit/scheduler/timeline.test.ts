import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { Timeline, type TimedEntry } from '../../../src/scheduler/timeline.js';

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0, 0);

interface Entry extends TimedEntry {
  name: string;
}

describe('Timeline', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  function make(): { timeline: Timeline<Entry>; fired: { name: string; at: number }[] } {
    const fired: { name: string; at: number }[] = [];
    const timeline = new Timeline<Entry>(
      () => Date.now(),
      (batch, now) => {
        for (const e of batch) fired.push({ name: e.name, at: now });
      },
      Math.floor(T0 / 1000),
    );
    return { timeline, fired };
  }

  test('holds entries beyond the horizon until their second is advanced', async () => {
    const { timeline, fired } = make();
    const base = Math.floor(T0 / 1000);
    timeline.add({ name: 'a', due: T0 + 2_250, cancelled: false });
    timeline.add({ name: 'b', due: T0 + 2_700, cancelled: false });
    await vi.advanceTimersByTimeAsync(1_500);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0); // nothing armed: the wheel holds them

    timeline.advance(base + 2);
    expect(timeline.horizon).toBe(base + 2);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(fired).toEqual([
      { name: 'a', at: T0 + 2_250 },
      { name: 'b', at: T0 + 2_700 },
    ]);
  });

  test('an overdue armed entry fires at once', async () => {
    const { timeline, fired } = make();
    timeline.add({ name: 'old', due: T0 + 2_000, cancelled: false });
    await vi.advanceTimersByTimeAsync(4_000);
    timeline.advance(Math.floor(T0 / 1000) + 5);
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toEqual([{ name: 'old', at: T0 + 4_000 }]);
  });

  test('fires armed entries at their due millisecond, in order, skipping cancelled ones', async () => {
    const { timeline, fired } = make();
    const base = Math.floor(T0 / 1000);
    const c: Entry = { name: 'c', due: T0 + 1_500, cancelled: false };
    timeline.add({ name: 'b', due: T0 + 1_900, cancelled: false });
    timeline.add({ name: 'a', due: T0 + 1_234, cancelled: false });
    timeline.add(c);
    timeline.advance(base + 1);
    c.cancelled = true;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(fired).toEqual([
      { name: 'a', at: T0 + 1_234 },
      { name: 'b', at: T0 + 1_900 },
    ]);
  });

  test('an entry added inside the horizon is armed immediately and can preempt the current timer', async () => {
    const { timeline, fired } = make();
    const base = Math.floor(T0 / 1000);
    timeline.advance(base + 1);
    timeline.add({ name: 'late', due: T0 + 900, cancelled: false });
    timeline.add({ name: 'early', due: T0 + 100, cancelled: false });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual([
      { name: 'early', at: T0 + 100 },
      { name: 'late', at: T0 + 900 },
    ]);
  });

  test('clear() drops everything, including the armed timer', async () => {
    const { timeline, fired } = make();
    timeline.add({ name: 'x', due: T0 + 500, cancelled: false });
    timeline.add({ name: 'y', due: T0 + 5_500, cancelled: false });
    timeline.clear();
    timeline.advance(Math.floor(T0 / 1000) + 10);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
