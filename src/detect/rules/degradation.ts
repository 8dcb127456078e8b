/**
 * Rule 6, degradation (throttling): reachable, but the median latency ratio (latency over each
 * target's own baseline) of a group >= degradation_latency_ratio over >= shutdown_min_targets
 * measurable targets.
 *
 * With a home country: its international targets slow together are the gateway throttled,
 * degradation of the home country (then foreign countries are not judged one by one: the same
 * slowness would be repeated once per country). Otherwise each foreign country is judged on its
 * own targets, outside-in, as every country is with no home country. A country in shutdown is
 * not judged.
 */
import type { Group } from '../groups.js';
import { median } from '../stats.js';
import type { TargetTracker } from '../target-state.js';
import { condition, type Condition, type RuleContext } from './common.js';

export function degradations(ctx: RuleContext, dark: ReadonlySet<string>): Condition[] {
  const { index, home } = ctx;
  if (home !== undefined && index.international !== null && !dark.has(home)) {
    const ratio = slowMedian(index.international, ctx);
    if (ratio !== null) return [condition('degradation', { country: home }, index.international, index.international.slow, null, ratio)];
  }
  const out: Condition[] = [];
  for (const [country, g] of index.countries) {
    if (country === home || dark.has(country)) continue;
    const ratio = slowMedian(g, ctx);
    if (ratio !== null && restAnsweredAtSpeed(ctx, country, g)) out.push(condition('degradation', { country }, g, g.slow, null, ratio));
  }
  return out;
}

/**
 * Outside `country` (other countries' targets, and the controls from a vantage with no home
 * country; never the home country's own targets, which a throttled gateway does not slow), the targets measured since
 * the country's slowness began are not slow: the slowness is the country's, not the path's.
 * With nothing else to compare with, the country's own slowness is taken as it is.
 */
function restAnsweredAtSpeed(ctx: RuleContext, country: string, g: Group): boolean {
  const { index, home } = ctx;
  const starts = g.slow.map((t) => t.baseline.slowSince ?? Infinity).sort((a, b) => a - b);
  const since = starts[Math.min(starts.length, (g.ratios.length >> 1) + 1) - 1] ?? -Infinity;
  // A member's ratio lags (it is over its recent samples); whether its latest sample was slow
  // (slowSince set) is what tells a throttled path from a fast one right at the onset.
  let measured = 0;
  let fast = 0;
  let others = 0;
  const look = (members: readonly TargetTracker[]): void => {
    for (const t of members) {
      if (t.latencyRatio() === null) continue;
      others++;
      if (t.lastOkAt === null || t.lastOkAt <= since) continue;
      measured++;
      if (t.baseline.slowSince === null) fast++;
    }
  };
  // Anycast controls often answer from a point of presence inside the home country, on the near
  // side of a throttled gateway: from a home they prove nothing about the path abroad.
  if (home === undefined) look(index.controls.members);
  for (const [c, other] of index.countries) if (c !== country && c !== home) look(other.members);
  if (others === 0) return true;
  return measured > 0 && 2 * fast > measured;
}

/** Median latency ratio when it reaches the threshold over enough targets, else null. */
function slowMedian(g: Group, ctx: RuleContext): number | null {
  if (g.ratios.length < ctx.s.shutdown_min_targets) return null;
  const m = median(g.ratios);
  return m >= ctx.s.degradation_latency_ratio ? m : null;
}
