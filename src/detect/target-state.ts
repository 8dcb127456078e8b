/**
 * One target's state machine and history, fed by its probe results.
 *
 *   unknown --up_after successes--> up --failure--> suspect --(down_after failures in a row)--> down
 *   suspect --success--> up          down --up_after successes in a row--> up
 *   unknown --down_after failures--> down (but never eligible: it was never seen up)
 *
 * With down_after = 1 a failure of an up target goes straight to down. A confirm re-probe is an
 * ordinary result here: with the defaults its failure is the second one, so the target is down
 * about confirm_delay after the first failure, and a single lost probe is healed by it.
 */
import type { ResolvedTarget } from '../config/schema.js';
import { LOCAL_REASONS, type FailureReason } from '../probers/reasons.js';
import type { ProbeResult } from '../probers/types.js';
import { LatencyBaseline } from './baseline.js';
import type { DetectionSettings } from './options.js';

export type TargetState = 'unknown' | 'up' | 'suspect' | 'down';

export class TargetTracker {
  state: TargetState = 'unknown';
  okStreak = 0;
  failStreak = 0;
  /** Probe start of the first failure of the current failure streak; kept while down (even across a lone success). */
  failStart: number | null = null;
  /** Probe start of the first success of the current success streak (the recovery time). */
  okStart: number | null = null;
  /** Observation time (start + total) when the target was last seen up; null: never since start. */
  lastUpAt: number | null = null;
  /** Probe start of the latest success. */
  lastOkAt: number | null = null;
  /** Probe start of the latest failure. */
  lastFailAt: number | null = null;
  /** Recovery time (first success) of the latest down -> up transition; null: never recovered from down. */
  recoveredAt: number | null = null;
  /** failStart of the failure streak that recovery ended. */
  recoveredFrom: number | null = null;
  /** Reason of the latest failure (kept while down, also after a recovering success). */
  lastReason: FailureReason | null = null;
  /**
   * The detail of the latest failure, kept only where it decides the mechanism (an
   * icmp_unreachable's code: mechanismOfFailure), so trackers hold no log text otherwise.
   */
  lastDetail: string | undefined = undefined;
  /** Outcome of the latest result; null before any. */
  latestOk: boolean | null = null;
  /** Set by the location check (src/geo): the target's address lies outside its declared country or AS. */
  geoMismatch = false;
  readonly baseline: LatencyBaseline;

  constructor(
    public target: ResolvedTarget,
    tauMs: number,
  ) {
    this.baseline = new LatencyBaseline(tauMs);
  }

  get id(): string {
    return this.target.id;
  }

  /** Applies one result; `observedAt` = result.at + phases.total * 1000. O(1). */
  observe(result: ProbeResult, observedAt: number, s: DetectionSettings): void {
    // The probe could not leave through its source, or this host's resolver failed it: nothing
    // was learnt about the endpoint (LOCAL_REASONS). A control counts it as a failure (this path cannot see: its vantage is offline); any other
    // target goes back to unknown, out of every ratio, until it is seen again.
    if (result.reason !== null && LOCAL_REASONS.has(result.reason) && !this.target.control) {
      this.forget();
      return;
    }
    this.latestOk = result.ok;
    if (result.ok) this.success(result, observedAt, s);
    else this.failure(result, s);
  }

  /**
   * Counts in ratios: settled, seen up at some time within the last `windowMs` before `now`
   * (up and suspect targets always qualify). Dead and never-seen-up targets do not.
   */
  eligible(now: number, windowMs: number): boolean {
    if (this.lastUpAt === null || this.state === 'unknown') return false;
    return this.state === 'up' || this.state === 'suspect' || now - this.lastUpAt <= windowMs;
  }

  /**
   * Latency ratio when the target is up (or suspect: one failure does not make its latency
   * unknown) and has a baseline, else null.
   */
  latencyRatio(): number | null {
    return this.state === 'up' || this.state === 'suspect' ? this.baseline.ratio : null;
  }

  private forget(): void {
    this.state = 'unknown';
    this.okStreak = 0;
    this.failStreak = 0;
    this.failStart = null;
    this.okStart = null;
    this.latestOk = null;
  }

  private success(result: ProbeResult, observedAt: number, s: DetectionSettings): void {
    this.okStreak++;
    this.failStreak = 0;
    this.okStart ??= result.at;
    this.lastOkAt = result.at;
    if (this.state === 'suspect' || (this.state !== 'up' && this.okStreak >= s.up_after)) {
      if (this.state === 'down') {
        this.recoveredAt = this.okStart;
        this.recoveredFrom = this.failStart;
      }
      this.state = 'up';
      this.failStart = null;
    }
    if (this.state === 'up') this.lastUpAt = observedAt;
    this.baseline.add(result.phases.total ?? 0, result.at, s.degradation_latency_ratio);
  }

  private failure(result: ProbeResult, s: DetectionSettings): void {
    this.failStreak++;
    this.okStreak = 0;
    this.okStart = null;
    this.failStart ??= result.at;
    this.lastFailAt = result.at;
    this.lastReason = result.reason ?? 'unknown';
    this.lastDetail = this.lastReason === 'icmp_unreachable' ? result.detail : undefined;
    if (this.failStreak >= s.down_after) this.state = 'down';
    else if (this.state === 'up') this.state = 'suspect';
  }
}
