/**
 * Periods in which the vantage point itself was offline. A target whose current failure streak
 * began inside such a period failed, as far as we can tell, because we could not see: it does
 * not count in any country group until it recovers. Without this, the targets that are still
 * "down" while the vantage comes back (each needs up_after successes) would look like a
 * country-wide outage for a moment.
 */
export interface BlindPeriod {
  /** Lower bound of the offline onset: the latest success of the failing controls. */
  start: number;
  /** Evaluation time at which the vantage was seen online again; null while ongoing. */
  end: number | null;
}

/** At most this many periods are remembered (the oldest are forgotten first). */
const MAX_PERIODS = 16;

export class BlindPeriods {
  private periods: BlindPeriod[] = [];

  get open(): boolean {
    return this.periods.at(-1)?.end === null;
  }

  begin(start: number): void {
    if (this.open) return;
    this.periods.push({ start, end: null });
    if (this.periods.length > MAX_PERIODS) this.periods.shift();
  }

  finish(at: number): void {
    const last = this.periods.at(-1);
    if (last && last.end === null) last.end = at;
  }

  /** Forgets the ongoing period: it turned out not to be the vantage (e.g. a gateway cut). */
  cancel(): void {
    if (this.open) this.periods.pop();
  }

  /** Forgets periods that ended before `before`. */
  prune(before: number): void {
    this.periods = this.periods.filter((p) => p.end === null || p.end >= before);
  }

  /** True when a failure streak that began at `failStart` began inside a period. */
  covers(failStart: number | null): boolean {
    if (failStart === null) return false;
    for (const p of this.periods) if (failStart >= p.start && (p.end === null || failStart <= p.end)) return true;
    return false;
  }
}
