/**
 * The probe clock: phase timings of one probe, the failure phase in progress, and the result
 * object built from them.
 */
import { performance } from 'node:perf_hooks';
import type { TargetKind } from '../config/schema.js';
import type { Deadline } from './deadline.js';
import { classifyError, describeError, type FailurePhase } from './failure.js';
import type { FailureReason, Phase } from './reasons.js';
import type { ProbeResult } from './types.js';

/**
 * Phase timings and the phase in progress for one probe. `run` times a step into a phase and
 * records which failure phase it belongs to, so a failure is classified by where it happened.
 */
export class ProbeClock {
  readonly at = Date.now();
  private readonly start = performance.now();
  readonly phases: Partial<Record<Phase, number>> = {};
  /** The failure phase of the step in progress (or the last one started). */
  current: FailurePhase = 'dns';

  /** Runs `step` as `failurePhase`, adding its duration to `phase` when it succeeds. */
  async run<T>(failurePhase: FailurePhase, phase: Phase, step: () => Promise<T>): Promise<T> {
    this.current = failurePhase;
    const t0 = performance.now();
    const value = await step();
    this.phases[phase] = (this.phases[phase] ?? 0) + (performance.now() - t0) / 1000;
    return value;
  }

  /**
   * The reason and detail of `err`, thrown by the step in progress: classified by its failure
   * phase, and described in the deadline's words when the deadline fired.
   */
  failure(err: unknown, deadline: Deadline): { reason: FailureReason; detail: string } {
    return { reason: classifyError(err, this.current), detail: deadline.describe() ?? describeError(err) };
  }

  /** A result with `total` set to the time since the clock started. */
  result(target: string, kind: TargetKind, fields: Pick<ProbeResult, 'ok' | 'reason' | 'ip'> & Partial<ProbeResult>): ProbeResult {
    return probeResult({ target, kind, at: this.at }, fields, Object.assign({}, this.phases, { total: (performance.now() - this.start) / 1000 }));
  }
}

/**
 * `head`, then `fields`, then `phases`, as one result object. Object.assign rather than an
 * object spread followed by more keys: V8 gives every object made by such a spread a hidden
 * class of its own, a cost per probe and, for the results kept per target, memory per target.
 */
export function probeResult(
  head: Pick<ProbeResult, 'target' | 'kind' | 'at'>,
  fields: Pick<ProbeResult, 'ok' | 'reason' | 'ip'> & Partial<ProbeResult>,
  phases: ProbeResult['phases'],
): ProbeResult {
  return Object.assign(head, fields, { phases });
}
