import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import type { ProbeResult } from '../../../src/probers/types.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import { nextDueAfter, stableOffset } from '../../../src/scheduler/slots.js';

// Pure scheduling logic under fake timers: a watch window's interval override (issue 25,
// Scheduler.overrideIntervals). The probe function is a stand-in that never touches the network.

const T0 = Date.UTC(2027, 5, 1, 3, 0, 0, 300); // mid-second on purpose

function target(id: string, extra: { interval?: number; control?: boolean } = {}): ResolvedTarget {
  return { id, kind: 'tcp', host: '127.0.0.1', port: 9, control: false, country: 'KZ', category: 'test', file: 'test.yaml', ...extra };
}

interface Call {
  id: string;
  at: number;
}

interface Delivered {
  id: string;
  at: number;
  confirm: boolean;
}

function harness(ok: (id: string) => boolean = () => true) {
  const calls: Call[] = [];
  const delivered: Delivered[] = [];
  const scheduler = new Scheduler({
    schedule: { interval: 60_000, timeout: 1_000, concurrency: 10, confirm_delay: 5_000 },
    probe: (t) => {
      calls.push({ id: t.id, at: Date.now() });
      const good = ok(t.id);
      const r: ProbeResult = { target: t.id, kind: 'tcp', ok: good, reason: good ? null : 'tcp_timeout', phases: { total: 0.01 }, ip: '127.0.0.1', at: Date.now() };
      return Promise.resolve(r);
    },
    onResult: (r) => delivered.push({ id: r.target, at: r.at, confirm: r.confirm === true }),
    log: createLogger('silent'),
  });
  const of = (id: string, after = -Infinity): Delivered[] => delivered.filter((d) => d.id === id && d.at > after);
  return { scheduler, calls, delivered, of };
}

const gaps = (xs: readonly { at: number }[]): number[] => xs.slice(1).map((x, i) => x.at - (xs[i] as { at: number }).at);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Scheduler.overrideIntervals', () => {
  test('an overridden target moves to the shorter interval at its new slot, and back when the override ends', async () => {
    const h = harness();
    h.scheduler.start([target('kz-1'), target('de-1')]);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(h.of('kz-1')).toHaveLength(1);
    expect(h.of('de-1')).toHaveLength(1);

    h.scheduler.overrideIntervals(new Map([['kz-1', 10_000]]));
    const from = Date.now();
    await vi.advanceTimersByTimeAsync(60_000);
    const watched = h.of('kz-1', from);
    expect(watched).toHaveLength(6);
    expect(gaps(watched)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
    // The first probe at the override's slot: k * 10 s + stableOffset(id, 10 s), the first after now.
    expect(watched[0]?.at).toBe(nextDueAfter(from, 10_000, stableOffset('kz-1', 10_000)));
    // The other target keeps its 60 s slot.
    expect(h.of('de-1', from)).toHaveLength(1);

    h.scheduler.overrideIntervals(new Map());
    const back = Date.now();
    await vi.advanceTimersByTimeAsync(180_000);
    const after = h.of('kz-1', back);
    expect(after).toHaveLength(3);
    expect(after[0]?.at).toBe(nextDueAfter(back, 60_000, stableOffset('kz-1', 60_000)));
    expect(gaps(after)).toEqual([60_000, 60_000]);
    await h.scheduler.stop(0);
  });

  test('an override never touches targets it does not name, and a later call replaces the earlier one', async () => {
    const h = harness();
    h.scheduler.start([target('kz-1'), target('kz-2')]);
    h.scheduler.overrideIntervals(new Map([['kz-1', 5_000]]));
    h.scheduler.overrideIntervals(new Map([['kz-2', 5_000]]));
    const from = Date.now();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.of('kz-2', from)).toHaveLength(12);
    expect(h.of('kz-1', from)).toHaveLength(1);
    await h.scheduler.stop(0);
  });

  test('a confirm re-probe of an overridden target comes within half its interval', async () => {
    const h = harness(() => false);
    h.scheduler.start([target('kz-1')]);
    h.scheduler.overrideIntervals(new Map([['kz-1', 4_000]]));
    await vi.advanceTimersByTimeAsync(20_000);
    const all = h.of('kz-1');
    const confirms = all.filter((d) => d.confirm);
    expect(confirms.length).toBeGreaterThanOrEqual(3);
    for (const c of confirms) {
      const before = all.filter((d) => !d.confirm && d.at < c.at).at(-1);
      // min(confirm_delay 5 s, 4 s / 2) after the failed regular probe.
      expect(c.at - (before?.at ?? -Infinity)).toBe(2_000);
    }
    await h.scheduler.stop(0);
  });

  test('without an override a failed probe is confirmed after confirm_delay as before', async () => {
    const h = harness(() => false);
    h.scheduler.start([target('kz-1')]);
    await vi.advanceTimersByTimeAsync(61_000);
    const [regular, confirm] = h.of('kz-1');
    expect(confirm?.confirm).toBe(true);
    expect((confirm?.at ?? 0) - (regular?.at ?? 0)).toBe(5_000);
    await h.scheduler.stop(0);
  });

  test("an overridden target's probes time out within half its interval; the others keep the schedule's timeout", async () => {
    const timeouts: [string, number][] = [];
    const scheduler = new Scheduler({
      schedule: { interval: 60_000, timeout: 10_000, concurrency: 10, confirm_delay: 5_000 },
      probe: (t, _signal, timeoutMs) => {
        timeouts.push([t.id, timeoutMs]);
        return Promise.resolve({ target: t.id, kind: 'tcp', ok: true, reason: null, phases: { total: 0.01 }, ip: '127.0.0.1', at: Date.now() });
      },
      onResult: () => undefined,
      log: createLogger('silent'),
    });
    scheduler.start([target('kz-1'), target('de-1'), target('kz-2')]);
    scheduler.overrideIntervals(new Map([['kz-1', 10_000], ['kz-2', 30_000]]));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(new Set(timeouts.map(([id, ms]) => `${id} ${ms}`))).toEqual(new Set(['kz-1 5000', 'kz-2 10000', 'de-1 10000']));
    await scheduler.stop(0);
  });

  test('the concurrency cap holds while many targets are overridden', async () => {
    let inFlight = 0;
    let most = 0;
    const scheduler = new Scheduler({
      schedule: { interval: 60_000, timeout: 1_000, concurrency: 2, confirm_delay: 5_000 },
      probe: async (t) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 300));
        inFlight--;
        return { target: t.id, kind: 'tcp', ok: true, reason: null, phases: { total: 0.3 }, ip: '127.0.0.1', at: Date.now() };
      },
      onResult: () => undefined,
      log: createLogger('silent'),
    });
    const targets = Array.from({ length: 8 }, (_, i) => target(`kz-${i}`));
    scheduler.start(targets);
    scheduler.overrideIntervals(new Map(targets.map((t) => [t.id, 1_000])));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(most).toBe(2);
    await scheduler.stop(0);
  });
});
