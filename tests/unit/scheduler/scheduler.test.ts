import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import type { ProbeResult } from '../../../src/probers/types.js';
import { Scheduler, type ScheduleSettings } from '../../../src/scheduler/scheduler.js';
import { nextDueAfter, stableOffset } from '../../../src/scheduler/slots.js';

// Pure scheduling logic: fake timers drive both the second ticks and the probe timers, and the
// probe function is a stand-in that never touches the network.

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0, 300); // mid-second on purpose

function target(id: string, extra: { interval?: number; timeout?: number } = {}): ResolvedTarget {
  return {
    id,
    kind: 'tcp',
    host: '127.0.0.1',
    port: 9,
    control: false,
    country: 'KZ',
    category: 'test',
    file: 'test.yaml',
    ...extra,
  };
}

function result(id: string, ok: boolean, at: number): ProbeResult {
  return { target: id, kind: 'tcp', ok, reason: ok ? null : 'tcp_timeout', phases: { total: 0.01 }, ip: '127.0.0.1', at };
}

interface Call {
  id: string;
  at: number;
  /** This target's calls before this one. */
  before: number;
  /** The result the probe returned, once it did. */
  result: ProbeResult | null;
  /** A confirm re-probe: the scheduler marked its result so (false until it returned). */
  readonly confirm: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

interface LogLine {
  level: string;
  msg: string;
  target?: string;
  [key: string]: unknown;
}

interface Behaviour {
  /** How long the probe takes (fake ms). */
  takes?: (call: Call) => number;
  ok?: (call: Call) => boolean;
}

function harness(schedule: Partial<ScheduleSettings> = {}, behaviour: Behaviour = {}) {
  const calls: Call[] = [];
  const results: ProbeResult[] = [];
  const skips: string[] = [];
  const lags: number[] = [];
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  let running = 0;
  let maxRunning = 0;
  const settings: ScheduleSettings = { interval: 10_000, timeout: 2_000, concurrency: 100, confirm_delay: 1_000, ...schedule };
  const scheduler = new Scheduler({
    schedule: settings,
    probe: (t, signal, timeoutMs) => {
      const call: Call = {
        id: t.id,
        at: Date.now(),
        before: calls.filter((c) => c.id === t.id).length,
        result: null,
        get confirm() {
          return this.result?.confirm === true;
        },
        timeoutMs,
        signal,
      };
      calls.push(call);
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<ProbeResult>((resolve) => {
        setTimeout(
          () => {
            running--;
            call.result = result(t.id, behaviour.ok?.(call) ?? true, call.at);
            resolve(call.result);
          },
          behaviour.takes?.(call) ?? 10,
        );
      });
    },
    onResult: (r) => results.push(r),
    onSkip: (t) => skips.push(t.id),
    onLag: (s) => lags.push(s),
    log: createLogger('debug', sink),
  });
  return {
    scheduler,
    settings,
    calls,
    results,
    skips,
    lags,
    logs,
    maxRunning: () => maxRunning,
    callsOf: (id: string) => calls.filter((c) => c.id === id),
  };
}

/** Advances fake time in small steps until `cond` holds (fails the test if it never does). */
async function advanceUntil(cond: () => boolean, stepMs = 10, maxMs = 60_000): Promise<void> {
  for (let t = 0; t < maxMs && !cond(); t += stepMs) await vi.advanceTimersByTimeAsync(stepMs);
  expect(cond()).toBe(true);
}

/** The first due time of `id` after the harness started at T0. */
function firstDue(id: string, interval: number): number {
  return nextDueAfter(T0, interval, stableOffset(id, interval));
}

beforeEach(() => vi.useFakeTimers({ now: T0 }));
afterEach(() => vi.useRealTimers());

describe('timing', () => {
  test('each target is probed at its exact wall-clock-aligned slot, then every interval', async () => {
    const h = harness({ interval: 10_000 });
    const ids = ['a', 'b', 'kz-egov', 'kz-kt-443'];
    h.scheduler.start(ids.map((id) => target(id)));
    await vi.advanceTimersByTimeAsync(30_500);
    for (const id of ids) {
      const due = firstDue(id, 10_000);
      const expected = [0, 1, 2, 3].map((k) => due + k * 10_000).filter((t) => t <= T0 + 30_500);
      expect(h.callsOf(id).map((c) => c.at)).toEqual(expected);
      // Not snapped to the second: the millisecond within the second is the offset's.
      expect(due % 1000).toBe(stableOffset(id, 10_000) % 1000);
    }
    expect(h.lags.every((l) => l === 0)).toBe(true);
    expect(h.results).toHaveLength(h.calls.length);
    await h.scheduler.stop(0);
  });

  test('per-target interval and timeout override the schedule', async () => {
    const h = harness({ interval: 10_000, timeout: 2_000 });
    h.scheduler.start([target('fast', { interval: 3_000, timeout: 500 }), target('slow')]);
    await vi.advanceTimersByTimeAsync(12_000);
    const fast = h.callsOf('fast');
    const due = firstDue('fast', 3_000);
    expect(fast.map((c) => c.at)).toEqual([due, due + 3_000, due + 6_000, due + 9_000].filter((t) => t <= T0 + 12_000));
    expect(fast.every((c) => c.timeoutMs === 500)).toBe(true);
    expect(h.callsOf('slow').every((c) => c.timeoutMs === 2_000)).toBe(true);
    expect(h.callsOf('slow').length).toBeGreaterThanOrEqual(1);
    await h.scheduler.stop(0);
  });

  test('the same ids keep the same slots across a restart', async () => {
    const first = harness();
    first.scheduler.start([target('x'), target('y')]);
    await vi.advanceTimersByTimeAsync(10_000);
    await first.scheduler.stop(0);
    const phase = (calls: Call[]) => calls.map((c) => `${c.id}@${c.at % 10_000}`).sort();
    const before = phase(first.calls);

    vi.setSystemTime(T0 + 3_600_123); // restart an hour later
    const second = harness();
    second.scheduler.start([target('x'), target('y')]);
    await vi.advanceTimersByTimeAsync(10_000);
    await second.scheduler.stop(0);
    expect(phase(second.calls)).toEqual(before);
  });

  test('a clock jump rebuilds the schedule instead of replaying missed probes', async () => {
    const h = harness({ interval: 5_000 });
    const ids = Array.from({ length: 20 }, (_, i) => `j-${i}`);
    h.scheduler.start(ids.map((id) => target(id)));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.calls).toHaveLength(20);
    const jumpedTo = Date.now() + 3_600_000;
    vi.setSystemTime(jumpedTo); // the wall clock moves, the timers do not
    await vi.advanceTimersByTimeAsync(11_000);
    expect(h.logs.some((l) => l.msg === 'clock jump: probe schedule rebuilt')).toBe(true);
    for (const id of ids) {
      // No replay of the missed hour: from the next tick on, each target runs once per interval, on its slot.
      const ats = h.callsOf(id).filter((c) => c.at >= jumpedTo).map((c) => c.at);
      expect(ats.length).toBeGreaterThanOrEqual(1);
      expect(ats.length).toBeLessThanOrEqual(3);
      for (const at of ats) expect((at - stableOffset(id, 5_000)) % 5_000).toBe(0);
      for (let i = 1; i < ats.length; i++) expect(ats[i]! - ats[i - 1]!).toBe(5_000);
    }
    await h.scheduler.stop(0);
  });

  test('a step of the clock an hour back keeps probing every interval, with no negative lag', async () => {
    const h = harness({ interval: 2_000 });
    const ids = Array.from({ length: 10 }, (_, i) => `b-${i}`);
    h.scheduler.start(ids.map((id) => target(id)));
    await vi.advanceTimersByTimeAsync(4_000);
    const before = h.calls.length;
    expect(before).toBeGreaterThanOrEqual(10);
    const jumpedTo = Date.now() - 3_600_000;
    vi.setSystemTime(jumpedTo); // the wall clock moves back, the timers do not
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.logs.some((l) => l.msg === 'clock jump: probe schedule rebuilt')).toBe(true);
    for (const id of ids) {
      // Within ten seconds of the step every target ran again, on its slot in the new time.
      const ats = h.calls.slice(before).filter((c) => c.id === id).map((c) => c.at);
      expect(ats.length).toBeGreaterThanOrEqual(4);
      for (let i = 1; i < ats.length; i++) expect(ats[i]! - ats[i - 1]!).toBe(2_000);
    }
    expect(h.lags.every((l) => l >= 0)).toBe(true);
    await h.scheduler.stop(0);
  });

  test('after a stall, probes a full interval overdue are skipped, not replayed in a burst', async () => {
    const h = harness({ interval: 10_000 });
    const ids = Array.from({ length: 50 }, (_, i) => `s-${i}`);
    h.scheduler.start(ids.map((id) => target(id)));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.calls).toHaveLength(50);
    vi.setSystemTime(Date.now() + 25_000); // the process was frozen for 25 s
    await vi.advanceTimersByTimeAsync(10_000);
    // Every target ran at most once per interval despite the missed 2.5 intervals.
    for (const id of ids) {
      const ats = h.callsOf(id).map((c) => c.at);
      for (let i = 1; i < ats.length; i++) expect(ats[i]! - ats[i - 1]!).toBeGreaterThanOrEqual(5_000);
    }
    expect(h.logs.some((l) => l.msg === 'overdue probes skipped after a stall')).toBe(true);
    await h.scheduler.stop(0);
  });
});

describe('concurrency cap', () => {
  test('never more than `concurrency` probes in flight; the rest wait in FIFO order and report their lag', async () => {
    const h = harness({ interval: 60_000, concurrency: 3 }, { takes: () => 2_000 });
    // Twenty targets whose slots fall within the same four seconds: 40 s of work for 3 slots.
    const ids: string[] = [];
    for (let i = 0; ids.length < 20; i++) {
      const offset = stableOffset(`c-${i}`, 60_000);
      if (offset >= 1_000 && offset < 5_000) ids.push(`c-${i}`);
    }
    h.scheduler.start(ids.map((id) => target(id)));
    let sawQueue = false;
    for (let t = 0; t < 50_000; t += 250) {
      await vi.advanceTimersByTimeAsync(250);
      expect(h.scheduler.inFlight).toBeLessThanOrEqual(3);
      if (h.scheduler.queued > 0) sawQueue = true;
    }
    expect(sawQueue).toBe(true);
    expect(h.maxRunning()).toBe(3);
    expect(h.calls.map((c) => c.id).sort()).toEqual([...ids].sort());
    // FIFO: started in the order they became due.
    const byDue = [...ids].sort((a, b) => firstDue(a, 60_000) - firstDue(b, 60_000));
    expect(h.calls.map((c) => c.id)).toEqual(byDue);
    // Lag = actual start - due time.
    expect(h.lags).toHaveLength(20);
    h.calls.forEach((c, i) => expect(h.lags[i]).toBeCloseTo((c.at - firstDue(c.id, 60_000)) / 1000, 6));
    expect(Math.max(...h.lags)).toBeGreaterThan(0);
    await h.scheduler.stop(0);
  });
});

describe('overlap', () => {
  test('a target whose previous probe still runs skips the occurrence and reports it', async () => {
    // Every probe takes 2.5 intervals.
    const h = harness({ interval: 4_000 }, { takes: () => 10_000 });
    h.scheduler.start([target('slowpoke')]);
    await vi.advanceTimersByTimeAsync(24_000);
    const ats = h.callsOf('slowpoke').map((c) => c.at);
    const due = firstDue('slowpoke', 4_000);
    // Runs at due, skips due+4 s and due+8 s, runs again at the first slot after it finished.
    expect(ats.slice(0, 2)).toEqual([due, due + 12_000]);
    expect(h.skips.filter((id) => id === 'slowpoke').length).toBeGreaterThanOrEqual(4);
    expect(h.maxRunning()).toBe(1);
    await h.scheduler.stop(0);
  });
});

describe('confirm re-probes', () => {
  test('a failed regular probe gets exactly one confirm at confirm_delay after the failure', async () => {
    const h = harness({ interval: 10_000, confirm_delay: 1_500 }, { takes: () => 200, ok: () => false });
    h.scheduler.start([target('down')]);
    await vi.advanceTimersByTimeAsync(21_000);
    const due = firstDue('down', 10_000);
    const calls = h.callsOf('down').filter((c) => c.at <= due + 10_000);
    expect(calls.map((c) => [c.at, c.confirm])).toEqual([
      [due, false],
      [due + 200 + 1_500, true],
      [due + 10_000, false],
    ]);
    // The prober did not set confirm; the scheduler did.
    expect(h.results.slice(0, 3).map((r) => r.confirm)).toEqual([undefined, true, undefined]);
    await h.scheduler.stop(0);
  });

  test('no confirm after a success or after a failed confirm', async () => {
    const h = harness({ interval: 10_000, confirm_delay: 1_000 }, { ok: (c) => c.id !== 'down' });
    h.scheduler.start([target('up'), target('down')]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.callsOf('up').every((c) => !c.confirm)).toBe(true);
    expect(h.callsOf('down').filter((c) => c.confirm)).toHaveLength(1);
    await h.scheduler.stop(0);
  });

  test('no confirm when the next regular probe is due first', async () => {
    const h = harness({ interval: 10_000, confirm_delay: 9_995 }, { takes: () => 10, ok: () => false });
    h.scheduler.start([target('down')]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.calls.length).toBeGreaterThanOrEqual(2);
    expect(h.calls.every((c) => !c.confirm)).toBe(true);
    await h.scheduler.stop(0);
  });

  test('a confirm counts for overlap: a regular probe due while it runs is skipped', async () => {
    const h = harness(
      { interval: 10_000, confirm_delay: 1_000 },
      // The second call is the confirm (asserted below, once it returned).
      { ok: () => false, takes: (c) => (c.before === 1 ? 15_000 : 100) },
    );
    h.scheduler.start([target('down')]);
    const due = firstDue('down', 10_000);
    await vi.advanceTimersByTimeAsync(due - T0 + 12_000);
    expect(h.calls.map((c) => c.at)).toEqual([due, due + 100 + 1_000]);
    expect(h.skips).toEqual(['down']);
    // The confirm returns at due + 16,100, before the next regular probe is due.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.calls.map((c) => c.confirm)).toEqual([false, true]);
    expect(h.skips).toEqual(['down']);
    await h.scheduler.stop(0);
  });
});

describe('callbacks that throw', () => {
  test('an exception from onResult is logged and the scheduler carries on', async () => {
    const logs: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    let probes = 0;
    const scheduler = new Scheduler({
      schedule: { interval: 2_000, timeout: 1_000, concurrency: 10, confirm_delay: 500 },
      probe: (t) => {
        probes++;
        return Promise.resolve(result(t.id, true, Date.now()));
      },
      onResult: () => {
        throw new Error('consumer bug');
      },
      log: createLogger('debug', sink),
    });
    scheduler.start([target('t1')]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probes).toBe(5);
    const errors = logs.filter((l) => l.msg === 'probe callback failed');
    expect(errors).toHaveLength(5);
    expect(errors[0]).toMatchObject({ level: 'error', target: 't1' });
    await scheduler.stop(0);
  });

  test('a probe that throws or rejects is logged and does not leave its target stuck', async () => {
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    const attempts = new Map<string, number>();
    const scheduler = new Scheduler({
      schedule: { interval: 2_000, timeout: 1_000, concurrency: 10, confirm_delay: 500 },
      probe: (t) => {
        attempts.set(t.id, (attempts.get(t.id) ?? 0) + 1);
        if (t.id === 'throws') throw new Error('sync bug');
        return Promise.reject(new Error('async bug'));
      },
      onResult: () => undefined,
      log: createLogger('debug', sink),
    });
    scheduler.start([target('throws'), target('rejects')]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts.get('throws')).toBe(5);
    expect(attempts.get('rejects')).toBe(5);
    expect(scheduler.inFlight).toBe(0);
    expect(logs.join('')).toContain('sync bug');
    expect(logs.join('')).toContain('async bug');
    await scheduler.stop(0);
  });
});

describe('update()', () => {
  test('unchanged targets keep their phase, removed ones stop, new ones start at their slot', async () => {
    const h = harness({ interval: 10_000 });
    h.scheduler.start([target('keep'), target('drop')]);
    await vi.advanceTimersByTimeAsync(15_000);
    const reloadAt = Date.now();
    h.scheduler.update([target('keep'), target('new')], h.settings);
    await vi.advanceTimersByTimeAsync(20_000);

    const keepDue = firstDue('keep', 10_000);
    expect(h.callsOf('keep').map((c) => c.at)).toEqual([0, 1, 2, 3].map((k) => keepDue + k * 10_000).filter((t) => t <= Date.now()));
    expect(h.callsOf('drop').every((c) => c.at < reloadAt)).toBe(true);
    const newDue = nextDueAfter(reloadAt, 10_000, stableOffset('new', 10_000));
    expect(h.callsOf('new').map((c) => c.at)).toEqual([newDue, newDue + 10_000]);
    await h.scheduler.stop(0);
  });

  test('a removed target’s in-flight probe still delivers its result; its queued probe never starts', async () => {
    const h = harness({ interval: 10_000, concurrency: 1 }, { takes: () => 3_000 });
    // Nine targets due within one interval, each probe taking 3 s: with concurrency 1 some wait.
    const ids = ['q-1', 'q-2', 'q-3', 'q-4', 'q-5', 'q-6', 'q-7', 'q-8', 'q-9'];
    h.scheduler.start(ids.map((id) => target(id)));
    await advanceUntil(() => h.scheduler.inFlight === 1 && h.scheduler.queued >= 1);
    const runningId = h.calls.at(-1)!.id;
    const started = new Set(h.calls.map((c) => c.id));
    h.scheduler.update([], h.settings);
    expect(h.scheduler.queued).toBe(0);
    expect(h.scheduler.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.results.map((r) => r.target)).toContain(runningId);
    expect(new Set(h.calls.map((c) => c.id))).toEqual(started);
    await h.scheduler.stop(0);
  });

  test('a changed interval moves the target to its new slot; concurrency changes apply', async () => {
    const h = harness({ interval: 10_000, concurrency: 1 });
    h.scheduler.start([target('m')]);
    await vi.advanceTimersByTimeAsync(10_000);
    const reloadAt = Date.now();
    h.scheduler.update([target('m', { interval: 4_000 })], { ...h.settings, concurrency: 5 });
    await vi.advanceTimersByTimeAsync(12_000);
    const due = nextDueAfter(reloadAt, 4_000, stableOffset('m', 4_000));
    expect(h.callsOf('m').filter((c) => c.at > reloadAt).map((c) => c.at)).toEqual([due, due + 4_000, due + 8_000]);
    await h.scheduler.stop(0);
  });
});

describe('stop()', () => {
  test('waits for in-flight probes within the grace period and delivers their results', async () => {
    const h = harness({ interval: 10_000 }, { takes: () => 1_000 });
    h.scheduler.start([target('w')]);
    await vi.advanceTimersByTimeAsync(firstDue('w', 10_000) - T0 + 100);
    expect(h.scheduler.inFlight).toBe(1);
    const stopped = h.scheduler.stop(5_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(stopped).resolves.toEqual({ finished: 1, aborted: 0 });
    expect(h.results).toHaveLength(1);
    expect(h.calls[0]!.signal.aborted).toBe(false);
    // Nothing is scheduled any more.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('aborts probes still running after the grace period and does not deliver their results', async () => {
    const signals: AbortSignal[] = [];
    const results: ProbeResult[] = [];
    const scheduler = new Scheduler({
      schedule: { interval: 5_000, timeout: 1_000, concurrency: 10, confirm_delay: 500 },
      // A probe that ignores its timeout and ends only when aborted.
      probe: (t, signal) => {
        signals.push(signal);
        return new Promise((resolve) => {
          signal.addEventListener('abort', () => resolve(result(t.id, false, Date.now())), { once: true });
        });
      },
      onResult: (r) => results.push(r),
      log: createLogger('silent'),
    });
    scheduler.start([target('hang-1'), target('hang-2')]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(scheduler.inFlight).toBe(2);
    const stopped = scheduler.stop(2_000);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(signals.every((s) => !s.aborted)).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await expect(stopped).resolves.toEqual({ finished: 0, aborted: 2 });
    expect(signals.every((s) => s.aborted)).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(results).toEqual([]);
    expect(scheduler.inFlight).toBe(0);
    expect(scheduler.stop(0)).toBe(stopped);
  });

  test('resolves at once when nothing is in flight, and nothing runs afterwards', async () => {
    const h = harness({ interval: 10_000 });
    h.scheduler.start([target('idle')]);
    const stopped = h.scheduler.stop(10_000);
    await expect(stopped).resolves.toEqual({ finished: 0, aborted: 0 });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.calls).toEqual([]);
  });

  test('drops queued probes at once; only the in-flight one finishes', async () => {
    const h = harness({ interval: 10_000, concurrency: 1 }, { takes: () => 3_000 });
    h.scheduler.start(['q-1', 'q-2', 'q-3', 'q-4', 'q-5', 'q-6', 'q-7', 'q-8', 'q-9'].map((id) => target(id)));
    await advanceUntil(() => h.scheduler.inFlight === 1 && h.scheduler.queued >= 1);
    const callsAtStop = h.calls.length;
    const stopped = h.scheduler.stop(10_000);
    expect(h.scheduler.queued).toBe(0);
    await vi.advanceTimersByTimeAsync(3_000);
    await expect(stopped).resolves.toEqual({ finished: 1, aborted: 0 });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.calls).toHaveLength(callsAtStop);
  });
});

describe('probeNow()', () => {
  test('probes the named targets at once, leaves busy and unknown ones alone, keeps their slots', async () => {
    const h = harness({ interval: 10_000 }, { takes: () => 100 });
    h.scheduler.start([target('ctl-a'), target('ctl-b'), target('other')]);
    h.scheduler.probeNow(['ctl-a', 'ctl-b', 'no-such-target']);
    h.scheduler.probeNow(['ctl-a']); // still in flight: not probed twice
    await vi.advanceTimersByTimeAsync(50);
    expect(h.calls.map((c) => [c.id, c.at])).toEqual([
      ['ctl-a', T0],
      ['ctl-b', T0],
    ]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.callsOf('ctl-a').map((c) => c.at)).toEqual([T0, firstDue('ctl-a', 10_000)]);
    expect(h.callsOf('other').map((c) => c.at)).toEqual([firstDue('other', 10_000)]);
    await h.scheduler.stop(0);
  });
});
