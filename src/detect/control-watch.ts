/**
 * Watches the control targets (well-known anycast resolvers and CDNs) and says, once per
 * change, whether this vantage point can reach the internet at all. Pure: fed results, returns
 * transitions; the caller logs them. The full vantage_offline verdict belongs to the detector;
 * this exists so that a daemon started without connectivity says so plainly in its log.
 */
import type { FailureReason } from '../probers/reasons.js';
import type { ProbeResult } from '../probers/types.js';

export type ControlsState = 'unknown' | 'reachable' | 'unreachable';

export interface ControlsTransition {
  state: Exclude<ControlsState, 'unknown'>;
  /** Controls with a result so far, and how many of them failed. */
  controls: number;
  failing: number;
  /** Failure reasons of the failing controls, by count. */
  reasons: Partial<Record<FailureReason, number>>;
}

export class ControlWatch {
  private readonly last = new Map<string, ProbeResult>();
  private ids = new Set<string>();
  private state: ControlsState = 'unknown';

  /** @param ids the control target ids; results of other targets are ignored. */
  constructor(ids: Iterable<string>) {
    this.setControls(ids);
  }

  /** Replaces the set of controls (on reload); forgets results of removed ones. */
  setControls(ids: Iterable<string>): void {
    this.ids = new Set(ids);
    for (const id of this.last.keys()) if (!this.ids.has(id)) this.last.delete(id);
    if (this.ids.size === 0) this.state = 'unknown';
  }

  get current(): ControlsState {
    return this.state;
  }

  /**
   * Records a result. Returns a transition when every control has reported at least once and
   * the verdict (all failing = unreachable, any ok = reachable) differs from the last one.
   */
  observe(result: ProbeResult): ControlsTransition | null {
    if (!this.ids.has(result.target)) return null;
    this.last.set(result.target, result);
    if (this.last.size < this.ids.size) return null;
    let failing = 0;
    const reasons: Partial<Record<FailureReason, number>> = {};
    for (const r of this.last.values()) {
      if (r.ok) continue;
      failing++;
      const reason = r.reason ?? 'unknown';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    const next = failing === this.last.size ? 'unreachable' : 'reachable';
    if (next === this.state) return null;
    this.state = next;
    return { state: next, controls: this.last.size, failing, reasons };
  }
}
