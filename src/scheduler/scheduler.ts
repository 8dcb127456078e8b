import { setMaxListeners } from 'node:events';
import type { ResolvedTarget } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ProbeResult } from '../probers/types.js';
import type { AdaptiveCause, AdaptivePolicy } from './adaptive.js';
import { FifoQueue } from './queue.js';
import { nextDueAfter, normalizeInterval, stableOffset } from './slots.js';
import { secondTicks, type TickSource } from './ticks.js';
import { Timeline, type TimedEntry } from './timeline.js';

/** Schedule settings in milliseconds; `Config['schedule']` is one. */
export interface ScheduleSettings {
  interval: number;
  timeout: number;
  concurrency: number;
  confirm_delay: number;
}

/** Runs one probe (a confirm re-probe too: the scheduler marks its result `confirm`). */
export type ProbeFn = (target: ResolvedTarget, signal: AbortSignal, timeoutMs: number) => Promise<ProbeResult>;

export interface SchedulerOptions {
  schedule: ScheduleSettings;
  /** Runs one probe (the app wires it to runProbe); a rejection is logged, never fatal. */
  probe: ProbeFn;
  onResult: (result: ProbeResult, target: ResolvedTarget) => void;
  /** A probe was due while the previous one of the same target still ran (or waited). */
  onSkip?: (target: ResolvedTarget) => void;
  /** How late each probe started versus its due time, in seconds (includes queueing). */
  onLag?: (seconds: number) => void;
  /** An extra probe of adaptive probing started (queued) for `target`. */
  onExtra?: (target: ResolvedTarget, cause: AdaptiveCause) => void;
  log: Logger;
  /** Clock, epoch milliseconds. Default Date.now. */
  now?: () => number;
  /** Source of the once-per-second ticks. Default: secondTicks (a timer per wall-clock second). */
  ticks?: TickSource;
  /**
   * Called at each of the per-second ticks with the clock's now (the window clock rides on
   * them); an exception is logged and the scheduler carries on.
   */
  onSecond?: (now: number) => void;
}

export interface StopSummary {
  /** Probes in flight at stop() that finished within the grace period. */
  finished: number;
  /** Probes still in flight when the grace period ended, then aborted. */
  aborted: number;
}

/** A wheel jump larger than this (seconds, forward) means the clock jumped: rebuild, don't replay. */
const MAX_CATCH_UP_SECONDS = 60;
/** A backward step larger than this (seconds) means the clock was set back: rebuild. */
const MAX_BACKWARD_SECONDS = 2;

interface TargetState {
  target: ResolvedTarget;
  interval: number;
  offset: number;
  /** The next regular occurrence; null only while it is being replaced. */
  regular: Occurrence | null;
  /** A pending confirm re-probe. */
  confirm: Occurrence | null;
  /** The job queued or in flight for this target: a probe never overlaps with itself. */
  busy: Job | null;
  removed: boolean;
}

interface Occurrence extends TimedEntry {
  state: TargetState;
  confirm: boolean;
}

interface Job {
  state: TargetState;
  target: ResolvedTarget;
  due: number;
  confirm: boolean;
  /** Withdrawn from the queue before it started. */
  cancelled: boolean;
  /** Aborted by stop(): its result, if any, is not delivered. */
  aborted: boolean;
}

type Phase = 'idle' | 'running' | 'stopped';

/**
 * Decides when each target is probed and runs the probes.
 *
 * Each target is probed every `interval` (its own or the schedule's) at a wall-clock-aligned
 * slot: due = k * interval + stableOffset(id). A once-per-second tick moves the probes due in
 * the coming second from a timing wheel to a timer that starts each at its exact due time. At
 * most `concurrency` probes run at once; the rest wait in FIFO order. A target whose previous
 * probe is still queued or running skips the occurrence (onSkip). After a failed regular probe,
 * one confirm re-probe runs `confirm_delay` later, unless the next regular probe comes first.
 * With an adaptive policy (setAdaptive), every result is fed to it and the extra probes it asks
 * for start at once, within its per-second cap, as regular probes outside the slots (a failure
 * gets its confirm re-probe); a target already queued or running is left alone.
 */
export class Scheduler {
  private readonly probe: ProbeFn;
  private readonly onResult: SchedulerOptions['onResult'];
  private readonly onSkip: SchedulerOptions['onSkip'];
  private readonly onLag: SchedulerOptions['onLag'];
  private readonly onExtra: SchedulerOptions['onExtra'];
  private adaptive: AdaptivePolicy | null = null;
  private readonly onSecond: SchedulerOptions['onSecond'];
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly ticks: TickSource;
  private readonly timeline: Timeline<Occurrence>;
  private readonly queue = new FifoQueue<Job>();
  private readonly running = new Set<Job>();
  private readonly abort = new AbortController();
  private readonly states = new Map<string, TargetState>();
  private schedule: ScheduleSettings;
  /** Intervals that override targets' own while a watch window is open, by target id. */
  private overrides: ReadonlyMap<string, number> = new Map();
  private phase: Phase = 'idle';
  private stopping: Promise<StopSummary> | null = null;
  private onDrained: (() => void) | null = null;

  constructor(opts: SchedulerOptions) {
    // Every in-flight probe listens on this one signal (up to `concurrency` at once): that is
    // by design, not the leak Node's default limit of 10 listeners warns about.
    setMaxListeners(0, this.abort.signal);
    this.schedule = { ...opts.schedule };
    this.probe = opts.probe;
    this.onResult = opts.onResult;
    this.onSkip = opts.onSkip;
    this.onLag = opts.onLag;
    this.onExtra = opts.onExtra;
    this.onSecond = opts.onSecond;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.ticks = opts.ticks ?? secondTicks(opts.log, this.now);
    this.timeline = new Timeline<Occurrence>(
      this.now,
      (due, now) => this.dispatch(due, now),
      Math.floor(this.now() / 1000) - 1,
    );
  }

  /** Probes in flight now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Probes due and waiting for a free slot under the concurrency cap. */
  get queued(): number {
    return this.queue.size;
  }

  /** Starts probing `targets`, each first at its next slot after now. Call once. */
  start(targets: ResolvedTarget[]): void {
    if (this.phase !== 'idle') throw new Error(`Scheduler.start() called while ${this.phase}`);
    this.phase = 'running';
    this.timeline.reset(Math.floor(this.now() / 1000) - 1);
    const now = this.now();
    for (const target of targets) this.addTarget(target, now);
    this.tick();
    this.ticks.start(() => this.tick());
  }

  /**
   * Reload: apply new targets and schedule settings; unchanged targets keep their phase;
   * removed targets stop (their in-flight probe may finish, its result still delivered); new
   * ones start at their slot. A target whose effective interval changed moves to its new slot.
   */
  update(targets: ResolvedTarget[], schedule: ScheduleSettings): void {
    if (this.phase === 'idle') throw new Error('Scheduler.update() called before start()');
    if (this.phase === 'stopped') return;
    this.schedule = { ...schedule };
    const now = this.now();
    const next = new Map(targets.map((t) => [t.id, t]));
    for (const [id, state] of this.states) {
      if (!next.has(id)) this.removeTarget(state);
    }
    for (const target of next.values()) {
      const state = this.states.get(target.id);
      if (state) this.updateTarget(state, target, now);
      else this.addTarget(target, now);
    }
    this.pump();
  }

  /**
   * Probes the given targets (by id) at these intervals instead of their own until the next
   * call (a watch window's shorter interval); a target whose effective interval changes moves
   * to its new slot at once. Confirm re-probes of an overridden target come within half its
   * interval, and its probes time out within half its interval. The concurrency cap still holds.
   */
  overrideIntervals(intervals: ReadonlyMap<string, number>): void {
    this.overrides = new Map(intervals);
    if (this.phase !== 'running') return;
    const now = this.now();
    for (const state of this.states.values()) this.updateTarget(state, state.target, now);
    this.pump();
  }

  /**
   * Probes the given targets once now, outside their slots, so the daemon learns within one
   * timeout whether its controls answer instead of waiting up to an interval. Targets already
   * queued or in flight, and unknown ids, are left alone.
   */
  probeNow(ids: Iterable<string>): void {
    if (this.phase !== 'running') return;
    const now = this.now();
    for (const id of ids) {
      const state = this.states.get(id);
      if (state && !state.busy) this.enqueue(state, now, false);
    }
    this.pump();
  }

  /**
   * Sets the adaptive probing policy (built per config: call again after update()); null: off.
   * Extra probes it had queued and not yet started are dropped with the old policy.
   */
  setAdaptive(policy: AdaptivePolicy | null): void {
    this.adaptive = policy;
  }

  /**
   * Stops scheduling at once (queued probes are dropped); waits for in-flight probes up to
   * `graceMs`, then aborts the rest through their AbortSignal and resolves without waiting for
   * them (graceMs <= 0 aborts at once). Results of aborted probes are not delivered. Never
   * rejects; later calls return the same promise.
   */
  stop(graceMs: number): Promise<StopSummary> {
    if (this.stopping) return this.stopping;
    this.phase = 'stopped';
    this.ticks.stop();
    this.timeline.clear();
    for (const job of this.queue.drain()) {
      if (job.state.busy === job) job.state.busy = null;
    }
    const atStop = this.running.size;
    this.stopping = new Promise<StopSummary>((resolve) => {
      if (atStop === 0) {
        resolve({ finished: 0, aborted: 0 });
        return;
      }
      const abortRest = (): void => {
        this.onDrained = null;
        const aborted = this.running.size;
        for (const job of this.running) job.aborted = true;
        this.abort.abort();
        this.log.warn({ aborted }, 'in-flight probes aborted at stop');
        resolve({ finished: atStop - aborted, aborted });
      };
      if (graceMs <= 0) {
        abortRest();
        return;
      }
      const grace = setTimeout(abortRest, graceMs);
      this.onDrained = () => {
        clearTimeout(grace);
        this.onDrained = null;
        resolve({ finished: atStop, aborted: 0 });
      };
    });
    return this.stopping;
  }

  // ---- targets ----

  private addTarget(target: ResolvedTarget, now: number): void {
    const interval = this.intervalOf(target);
    const state: TargetState = {
      target,
      interval,
      offset: stableOffset(target.id, interval),
      regular: null,
      confirm: null,
      busy: null,
      removed: false,
    };
    this.states.set(target.id, state);
    this.scheduleRegular(state, nextDueAfter(now, state.interval, state.offset));
  }

  private updateTarget(state: TargetState, target: ResolvedTarget, now: number): void {
    state.target = target;
    const interval = this.intervalOf(target);
    if (interval === state.interval) return;
    state.interval = interval;
    state.offset = stableOffset(target.id, interval);
    if (state.regular) state.regular.cancelled = true;
    this.scheduleRegular(state, nextDueAfter(now, interval, state.offset));
    if (state.confirm && state.regular && state.confirm.due >= state.regular.due) this.cancelConfirm(state);
  }

  private removeTarget(state: TargetState): void {
    state.removed = true;
    this.states.delete(state.target.id);
    if (state.regular) state.regular.cancelled = true;
    state.regular = null;
    this.cancelConfirm(state);
    const job = state.busy;
    // A queued probe never starts; one in flight finishes and its result is delivered.
    if (job && !this.running.has(job)) {
      this.queue.cancel(job);
      state.busy = null;
    }
  }

  private intervalOf(target: ResolvedTarget): number {
    return normalizeInterval(this.overrides.get(target.id) ?? target.interval ?? this.schedule.interval);
  }

  /**
   * A probe's timeout: the target's own or the schedule's; under an interval override at most
   * half that interval, so that a probe of a blackholed target ends before the next one is due
   * (a 10 s timeout in a 10 s watch window made every other probe a skip: bench/windows).
   */
  private timeoutOf(state: TargetState): number {
    const timeout = state.target.timeout ?? this.schedule.timeout;
    return this.overrides.has(state.target.id) ? Math.min(timeout, Math.max(1, Math.floor(state.interval / 2))) : timeout;
  }

  private scheduleRegular(state: TargetState, due: number): void {
    const occurrence: Occurrence = { due, cancelled: false, state, confirm: false };
    state.regular = occurrence;
    this.timeline.add(occurrence);
  }

  private cancelConfirm(state: TargetState): void {
    if (state.confirm) state.confirm.cancelled = true;
    state.confirm = null;
  }

  // ---- time ----

  private tick(): void {
    if (this.phase !== 'running') return;
    const now = this.now();
    if (this.onSecond) {
      try {
        this.onSecond(now);
      } catch (err) {
        this.log.error({ err }, 'scheduler second callback failed');
      }
    }
    const coming = Math.floor(now / 1000) + 1;
    const jump = coming - (this.timeline.horizon + 1);
    if (jump > MAX_CATCH_UP_SECONDS || jump < -MAX_BACKWARD_SECONDS) {
      this.rebuild(now, jump);
      return;
    }
    this.timeline.advance(coming);
    // Extra probes held back by the per-second cap start in the next second.
    this.startExtras();
  }

  /** After a clock jump: every target restarts at its next slot after now; confirms are dropped. */
  private rebuild(now: number, jumpSeconds: number): void {
    this.log.warn({ jumpSeconds }, 'clock jump: probe schedule rebuilt');
    this.timeline.reset(Math.floor(now / 1000) - 1);
    for (const state of this.states.values()) {
      if (state.regular) state.regular.cancelled = true;
      this.cancelConfirm(state);
      this.scheduleRegular(state, nextDueAfter(now, state.interval, state.offset));
    }
    this.timeline.advance(Math.floor(now / 1000) + 1);
  }

  private dispatch(due: Occurrence[], now: number): void {
    if (this.phase !== 'running') return;
    let overdue = 0;
    for (const occurrence of due) {
      const state = occurrence.state;
      if (state.removed) continue;
      if (occurrence.confirm) {
        state.confirm = null;
        // Cannot happen while regular probes follow their slots; guards a reload's edge cases.
        if (state.busy) continue;
        this.enqueue(state, occurrence.due, true);
        continue;
      }
      // An occurrence a full interval late (event loop stall, suspend) is dropped rather than
      // replayed, so a stall never turns into a burst.
      const stale = now - occurrence.due >= state.interval;
      this.scheduleRegular(
        state,
        stale ? nextDueAfter(now, state.interval, state.offset) : occurrence.due + state.interval,
      );
      if (stale) {
        overdue++;
      } else if (state.busy) {
        this.guard(state.target, () => this.onSkip?.(state.target));
      } else {
        this.enqueue(state, occurrence.due, false);
      }
    }
    if (overdue > 0) this.log.warn({ skipped: overdue }, 'overdue probes skipped after a stall');
    this.pump();
  }

  // ---- running probes ----

  private enqueue(state: TargetState, due: number, confirm: boolean): void {
    const job: Job = { state, target: state.target, due, confirm, cancelled: false, aborted: false };
    state.busy = job;
    this.queue.push(job);
  }

  private pump(): void {
    while (this.phase === 'running' && this.running.size < this.schedule.concurrency) {
      const job = this.queue.shift();
      if (!job) return;
      this.run(job);
    }
  }

  private run(job: Job): void {
    this.running.add(job);
    const startedAt = this.now();
    const lag = Math.max(0, startedAt - job.due) / 1000;
    this.guard(job.target, () => this.onLag?.(lag));
    const timeout = this.timeoutOf(job.state);
    let pending: Promise<ProbeResult>;
    try {
      pending = Promise.resolve(this.probe(job.target, this.abort.signal, timeout));
    } catch (err) {
      pending = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    void pending.then(
      (result) => this.settle(job, result),
      (err: unknown) => {
        this.log.error({ err, target: job.target.id }, 'probe callback failed');
        this.settle(job, null);
      },
    );
  }

  private settle(job: Job, result: ProbeResult | null): void {
    this.running.delete(job);
    const state = job.state;
    if (state.busy === job) state.busy = null;
    if (!job.aborted && result) {
      if (job.confirm && result.confirm !== true) result.confirm = true;
      this.guard(job.target, () => this.onResult(result, job.target));
      if (!job.confirm && !result.ok) this.scheduleConfirm(state);
      this.adaptive?.observe(result, job.confirm);
      this.startExtras();
    }
    if (this.running.size === 0) this.onDrained?.();
    this.pump();
  }

  /** Queues the extra probes the adaptive policy asks for now (pump() starts them). */
  private startExtras(): void {
    if (!this.adaptive || this.phase !== 'running') return;
    const now = this.now();
    const extras = this.adaptive.take(now, (id) => {
      const state = this.states.get(id);
      return !state || state.busy !== null;
    });
    for (const { id, cause } of extras) {
      const state = this.states.get(id) as TargetState;
      this.enqueue(state, now, false);
      this.guard(state.target, () => this.onExtra?.(state.target, cause));
    }
    if (extras.length > 0) this.pump();
  }

  /** One confirm re-probe after a failed regular probe, unless the next regular one comes first. */
  private scheduleConfirm(state: TargetState): void {
    if (this.phase !== 'running' || state.removed) return;
    const delay = this.overrides.has(state.target.id) ? Math.min(this.schedule.confirm_delay, state.interval / 2) : this.schedule.confirm_delay;
    const due = this.now() + delay;
    if (!state.regular || due >= state.regular.due) return;
    this.cancelConfirm(state);
    const occurrence: Occurrence = { due, cancelled: false, state, confirm: true };
    state.confirm = occurrence;
    this.timeline.add(occurrence);
  }

  /** Runs a caller-supplied callback; an exception is logged and the scheduler carries on. */
  private guard(target: ResolvedTarget, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, target: target.id }, 'probe callback failed');
    }
  }
}
