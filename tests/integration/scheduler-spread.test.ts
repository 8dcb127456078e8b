import { describe, expect, test } from 'vitest';
import type { ResolvedTarget } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';

// Real timers and the real node-cron tick: 1,000 targets at a 10 s interval must be spread
// evenly over the interval, not fired in bursts. The probe is a stand-in that sleeps a few
// milliseconds; nothing touches the network.

const INTERVAL = 10_000;
const N = 1000;

function target(id: string): ResolvedTarget {
  return { id, kind: 'tcp', host: '127.0.0.1', port: 9, control: false, country: 'KZ', category: 'test', file: 'spread' };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('scheduler spread (real timers)', () => {
  test('1,000 targets at 10 s: each probed once per interval, evenly spread, with small lag', async () => {
    const ids = Array.from({ length: N }, (_, i) => `t-${String(i).padStart(4, '0')}`);
    const starts = new Map<string, number[]>();
    const lags: number[] = [];
    let results = 0;
    const scheduler = new Scheduler({
      schedule: { interval: INTERVAL, timeout: 1_000, concurrency: 256, confirm_delay: 1_000 },
      probe: async (t) => {
        const at = Date.now();
        const list = starts.get(t.id);
        if (list) list.push(at);
        else starts.set(t.id, [at]);
        await sleep(3);
        return { target: t.id, kind: 'tcp', ok: true, reason: null, phases: { total: 0.003 }, ip: '127.0.0.1', at } satisfies ProbeResult;
      },
      onResult: () => {
        results++;
      },
      onLag: (s) => lags.push(s),
      log: silentLogger(),
    });

    const t0 = Date.now();
    scheduler.start(ids.map(target));
    // One full interval plus a little: every first due time lies in (t0, t0 + interval].
    await sleep(INTERVAL + 600);
    const stopAsked = Date.now();
    const summary = await scheduler.stop(2_000);
    const stopTook = Date.now() - stopAsked;

    // Every target probed, exactly once within the first interval.
    expect(starts.size).toBe(N);
    const firsts: number[] = [];
    for (const id of ids) {
      const ats = starts.get(id) ?? [];
      expect(ats.length).toBeGreaterThanOrEqual(1);
      const first = ats[0]!;
      expect(first).toBeGreaterThan(t0);
      expect(first).toBeLessThanOrEqual(t0 + INTERVAL + 250);
      // A second probe, if any, is a full interval later: never twice in one interval.
      for (let i = 1; i < ats.length; i++) expect(ats[i]! - ats[i - 1]!).toBeGreaterThan(INTERVAL - 250);
      firsts.push(first);
    }

    // Due times are wall-clock aligned (k * interval + offset), so a start's phase within the
    // interval is its time modulo the interval. Ten 1 s buckets hold 100 +- 30 each.
    const buckets = new Array<number>(10).fill(0);
    const windows = new Array<number>(100).fill(0);
    for (const at of firsts) {
      const phase = at % INTERVAL;
      buckets[Math.floor(phase / 1000)]! += 1;
      windows[Math.floor(phase / 100)]! += 1;
    }
    for (const count of buckets) {
      expect(count).toBeGreaterThanOrEqual(70);
      expect(count).toBeLessThanOrEqual(130);
    }
    // No 100 ms window holds more than 3x the mean (10): no bursts at second boundaries.
    expect(Math.max(...windows)).toBeLessThanOrEqual(30);

    // Lag: a correctness check, not a benchmark.
    expect(lags.length).toBeGreaterThanOrEqual(N);
    expect(percentile(lags, 99)).toBeLessThan(0.25);

    // stop(2000) resolved as soon as the few in-flight probes finished, without aborting any;
    // every probe that started delivered its result.
    expect(summary.aborted).toBe(0);
    expect(stopTook).toBeLessThan(2_000);
    expect(results).toBe([...starts.values()].reduce((sum, ats) => sum + ats.length, 0));
    expect(scheduler.inFlight).toBe(0);
  }, 30_000);
});
