/**
 * Per-target latency baseline: a time-weighted EWMA of log(total latency) of successful probes.
 * Averaging logs makes it a geometric mean, so one very slow probe barely moves it; the current
 * latency is the median of the last CURRENT_SAMPLES successes, so one slow probe does not move
 * the ratio at all.
 */
import { median } from './stats.js';

/** Successful probes needed before the baseline counts (ratio is null before). */
export const MIN_BASELINE_SAMPLES = 5;
/** The current latency is the median of this many latest successful probes. */
export const CURRENT_SAMPLES = 3;
/**
 * While the current ratio is at or above the degradation threshold the baseline adapts this
 * many times slower, so hours of throttling are not absorbed within minutes, yet a permanent
 * path change is eventually learnt (days, not forever).
 */
export const SLOW_ADAPTATION = 0.05;
/** Largest log-deviation one sample contributes (ln 2). */
const MAX_STEP = Math.LN2;
/** Latencies are floored here (seconds) so loopback-fast probes do not produce log(0). */
const FLOOR_S = 1e-4;

export class LatencyBaseline {
  private logMean = 0;
  private samples = 0;
  private lastAt: number | null = null;
  private readonly recent: number[] = [];
  private next = 0;
  /** current / baseline after the latest sample; null until MIN_BASELINE_SAMPLES. */
  ratio: number | null = null;
  /**
   * Probe start of the first sample of the current run of samples that were each at least the
   * threshold times the baseline; null when the latest sample was not slow.
   */
  slowSince: number | null = null;

  /**
   * @param tauMs time constant of the EWMA. The weight of a sample taken dt after the previous
   *   one is 1 - exp(-dt / tau), so the adaptation speed does not depend on the probe interval;
   *   until that is smaller than 1/(n+1) the baseline is the plain mean of the first n samples.
   */
  constructor(private tauMs: number) {}

  setTau(tauMs: number): void {
    this.tauMs = tauMs;
  }

  get ready(): boolean {
    return this.samples >= MIN_BASELINE_SAMPLES;
  }

  /** Baseline latency in seconds, or null before MIN_BASELINE_SAMPLES. */
  get value(): number | null {
    return this.ready ? Math.exp(this.logMean) : null;
  }

  /** Adds a successful probe's total latency (seconds) started at `at` (epoch ms). */
  add(totalS: number, at: number, threshold: number): void {
    const v = Math.max(totalS, FLOOR_S);
    if (this.recent.length < CURRENT_SAMPLES) this.recent.push(v);
    else this.recent[this.next] = v;
    this.next = (this.next + 1) % CURRENT_SAMPLES;

    if (this.ready) {
      const base = Math.exp(this.logMean);
      this.ratio = median(this.recent) / base;
      if (v / base >= threshold) this.slowSince ??= at;
      else this.slowSince = null;
    } else {
      this.ratio = null;
      this.slowSince = null;
    }

    const dt = this.lastAt === null ? 0 : Math.max(0, at - this.lastAt);
    let weight = Math.max(1 / (this.samples + 1), 1 - Math.exp(-dt / this.tauMs));
    if (this.ratio !== null && this.ratio >= threshold) weight *= SLOW_ADAPTATION;
    // Huber-style clamp: one extreme sample moves the baseline at most as much as a 2x one.
    const delta = Math.max(-MAX_STEP, Math.min(MAX_STEP, Math.log(v) - this.logMean));
    this.logMean += this.samples === 0 ? Math.log(v) - this.logMean : weight * delta;
    this.samples++;
    this.lastAt = at;
  }
}

/** The EWMA time constant used for a baseline window: half of it (memory of about a window). */
export function baselineTau(baselineWindowMs: number): number {
  return Math.max(1, baselineWindowMs / 2);
}
