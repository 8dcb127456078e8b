/**
 * A replay driver that also says when each change happened. It makes exactly the calls that
 * replay() in src/detect/replay.ts makes (ticks at every multiple of evaluate_every up to each
 * observation time, then up to endAt, then one final evaluation), so its changes are replay()'s
 * changes, each with the evaluation time that returned it. The smoke test checks that they agree.
 */
import { Detector, type EventChange } from '../../src/detect/detector.js';
import type { DetectorOptions } from '../../src/detect/options.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { observedAt } from './generate.js';

export interface TimedChange extends EventChange {
  /** The evaluate(now) time that returned this change, epoch ms. */
  at: number;
}

export function replayTimed(results: Iterable<ProbeResult>, opts: DetectorOptions, endAt?: number): TimedChange[] {
  const detector = new Detector(opts);
  const every = opts.detection.evaluate_every;
  const changes: TimedChange[] = [];
  let nextTick: number | null = null;
  let lastEvaluated: number | null = null;
  let lastObserved: number | null = null;
  const evaluate = (now: number): void => {
    for (const c of detector.evaluate(now)) changes.push({ ...c, at: now });
    lastEvaluated = now;
  };
  const tickUntil = (t: number): void => {
    while (nextTick !== null && nextTick <= t) {
      evaluate(nextTick);
      nextTick += every;
    }
  };
  for (const r of results) {
    const observed = observedAt(r);
    nextTick ??= Math.ceil(observed / every) * every;
    tickUntil(observed);
    detector.observe(r);
    lastObserved = lastObserved === null ? observed : Math.max(lastObserved, observed);
  }
  if (endAt !== undefined) {
    nextTick ??= Math.ceil(endAt / every) * every;
    tickUntil(endAt);
  }
  const end = endAt ?? lastObserved;
  if (end !== null && (lastEvaluated === null || end > lastEvaluated)) evaluate(end);
  return changes;
}
