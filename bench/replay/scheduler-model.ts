/**
 * The benchmarks' model of the daemon's scheduler, over a whole world at once: every target
 * probed once per interval at its own offset (a regular probe due while the target's previous
 * probe is still out is skipped, as the daemon's `busy` does), a failed regular probe followed by
 * one confirm re-probe confirm_delay after its result arrived (unless the next regular probe
 * comes first), and, with a policy, the daemon's adaptive probing: every result is fed, at its
 * observation time, to the SAME AdaptivePolicy as the daemon's (src/scheduler/adaptive.ts) and
 * the extra probes it asks for start then, within its per-second cap (each is a regular probe
 * outside the slots: a failure gets its confirm).
 *
 * Outcomes are decided by each target's `probe(at, confirm)`, called in that target's time
 * order, so without a policy every target's stream is what a per-target loop would give.
 */
import type { ProbeResult } from '../../src/probers/types.js';
import { ConfigFile, DetectionConfig, type ResolvedTarget } from '../../src/config/schema.js';
import { adaptivePolicyFor, type AdaptivePolicy } from '../../src/scheduler/adaptive.js';
import { DueHeap } from '../../src/scheduler/heap.js';
import { SCHEDULE } from './world.js';

/** One target as the model probes it. */
export interface ProbePlan {
  id: string;
  offsetMs: number;
  probe: (at: number, confirm: boolean) => ProbeResult;
  /** Runs before each regular probe (state changes such as a flapping spell beginning). */
  beforeRegular?: (at: number) => void;
}

export interface ModelRun {
  /** Per target (plan order), its results in probe order. */
  streams: ProbeResult[][];
  /** Regular and confirm probes (what the slots alone would run). */
  scheduled: number;
  /** Extra probes of adaptive probing. */
  extra: number;
}

type Step =
  | { due: number; type: 'regular' | 'confirm'; plan: number }
  | { due: number; type: 'observe'; plan: number; result: ProbeResult; confirm: boolean }
  | { due: number; type: 'tick' };

/** Observation time of a result: when the detector (and the scheduler) can first know it. */
export function observedAt(r: ProbeResult): number {
  return r.at + (r.phases.total ?? 0) * 1000;
}

/** Runs the model over [from, to): regular probes start in it, later steps are dropped. */
export function runScheduleModel(plans: readonly ProbePlan[], from: number, to: number, policy: AdaptivePolicy | null = null): ModelRun {
  const { interval, confirm_delay } = SCHEDULE;
  const heap = new DueHeap<Step>();
  const streams: ProbeResult[][] = plans.map(() => []);
  const busy: boolean[] = plans.map(() => false);
  const nextRegular: number[] = plans.map(() => Infinity);
  const index = new Map(plans.map((p, i) => [p.id, i]));
  const run: ModelRun = { streams, scheduled: 0, extra: 0 };
  let tickAt = -Infinity;
  plans.forEach((p, i) => {
    const first = Math.ceil((from - p.offsetMs) / interval) * interval + p.offsetMs;
    if (first < to) heap.push({ due: first, type: 'regular', plan: i });
  });
  const start = (i: number, at: number, confirm: boolean): void => {
    const result = (plans[i] as ProbePlan).probe(at, confirm);
    busy[i] = true;
    (streams[i] as ProbeResult[]).push(result);
    heap.push({ due: observedAt(result), type: 'observe', plan: i, result, confirm });
  };
  const startExtras = (now: number): void => {
    if (!policy) return;
    for (const x of policy.take(now, (id) => busy[index.get(id) ?? -1] !== false)) {
      start(index.get(x.id) as number, now, false);
      run.extra++;
    }
    // Extra probes held back by the per-second cap start at the next second.
    if (policy.waiting > 0 && tickAt <= now) {
      tickAt = (Math.floor(now / 1000) + 1) * 1000;
      if (tickAt < to) heap.push({ due: tickAt, type: 'tick' });
    }
  };
  for (let step = heap.pop(); step && step.due < to; step = heap.pop()) {
    if (step.type === 'tick') {
      startExtras(step.due);
      continue;
    }
    const i = step.plan;
    if (step.type === 'regular') {
      nextRegular[i] = step.due + interval;
      if (nextRegular[i] < to) heap.push({ due: nextRegular[i], type: 'regular', plan: i });
      plans[i]?.beforeRegular?.(step.due);
      if (busy[i]) continue;
      run.scheduled++;
      start(i, step.due, false);
    } else if (step.type === 'confirm') {
      if (busy[i]) continue;
      run.scheduled++;
      start(i, step.due, true);
    } else if (step.type === 'observe') {
      busy[i] = false;
      const confirmAt = step.due + confirm_delay;
      if (!step.confirm && !step.result.ok && confirmAt < (nextRegular[i] as number) && confirmAt < to) heap.push({ due: confirmAt, type: 'confirm', plan: i });
      policy?.observe(step.result, step.confirm);
      startExtras(step.due);
    }
  }
  return run;
}

/** The daemon's policy with the default `schedule:` and `detection:` settings, for a bench world. */
export function defaultPolicy(targets: ResolvedTarget[], vantageCountry: string | undefined): AdaptivePolicy | null {
  const { schedule } = ConfigFile.parse({ vantage: { id: 'bench' } });
  const vantage = vantageCountry === undefined ? { id: 'bench' } : { id: 'bench', country: vantageCountry };
  // The policy with its default budgets, switched on here: the daemon ships it off for now (issue 26).
  return adaptivePolicyFor({ schedule: { ...schedule, adaptive: { ...schedule.adaptive, enabled: true }, interval: SCHEDULE.interval }, detection: DetectionConfig.parse({}), vantage, targets });
}
