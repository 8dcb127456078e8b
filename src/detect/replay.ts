/**
 * Pure replay driver for `lookout replay` and the replay benchmark.
 */
import type { ProbeResult } from '../probers/types.js';
import type { EventChange } from './detector.js';
import { PathDetectors } from './paths.js';
import type { DetectorOptions } from './options.js';

/** A change with the evaluate(now) time that returned it, epoch ms. */
export interface TimedChange extends EventChange {
  at: number;
}

/** Evaluations past the baseline windows a gap without results is still ticked through. */
const IDLE_TICKS = 100;

/**
 * The location check as replay applies it: for a result, the target whose location verdict
 * changed and whether it now lies outside its declared country or AS (null: no change).
 */
export type GeoVerdicts = (result: ProbeResult) => { target: string; mismatch: boolean } | null;

/**
 * Feeds `results` in order to a new Detector. Before each result, evaluates at every multiple of
 * detection.evaluate_every (aligned to epoch 0) up to its observation time (at + total), as the
 * live daemon would have; then continues the ticks up to `endAt` (when given) and evaluates once
 * more at the end (endAt, else the last observation time) when that is after the last tick.
 * A gap without results is ticked through only up to two baseline windows and 100 evaluations
 * past the last result (nothing changes after that), then again from the last tick before the
 * next result. Returns all changes in order, each with the evaluation time that returned it. With `geo`, each
 * result first goes through the location check, as in the daemon.
 */
export function replay(results: Iterable<ProbeResult>, opts: DetectorOptions, endAt?: number, geo?: GeoVerdicts): TimedChange[] {
  const detector = new PathDetectors(opts);
  const every = opts.detection.evaluate_every;
  const changes: TimedChange[] = [];
  let nextTick: number | null = null;
  let lastEvaluated: number | null = null;
  let lastObserved: number | null = null;
  const evaluate = (now: number): void => {
    for (const c of detector.evaluate(now)) changes.push({ ...c, at: now });
    lastEvaluated = now;
  };
  // Past this long without a result nothing observed is inside any of the detector's windows
  // and every further tick would evaluate the same state: a gap of years between two recorded
  // results (a clock step, a hostile file) is not ticked through at 5 s a tick.
  const idleHorizon = 2 * opts.detection.baseline_window + IDLE_TICKS * every;
  const tickUntil = (t: number): void => {
    while (nextTick !== null && nextTick <= t) {
      evaluate(nextTick);
      nextTick += every;
      if (lastObserved !== null && nextTick - lastObserved > idleHorizon) nextTick = Math.max(nextTick, Math.floor(t / every) * every);
    }
  };
  for (const result of results) {
    const observed = result.at + (result.phases.total ?? 0) * 1000;
    nextTick ??= Math.ceil(observed / every) * every;
    tickUntil(observed);
    const moved = geo?.(result);
    if (moved) detector.setGeoMismatch(moved.target, moved.mismatch);
    detector.observe(result);
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
