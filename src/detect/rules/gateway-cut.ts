/**
 * Rule 2, the gateway cut (inside-out): the home country's international targets (without the
 * categories already blocked there) mostly down while its domestic targets answer = a shutdown of
 * the home country. When the failures are one foreign country's alone (the rest of the world
 * answers), it is that country's outage (rule 3), not a cut.
 */
import type { Group } from '../groups.js';
import { needed } from '../stats.js';
import {
  answeredAcross,
  condition,
  mechanismOfTargets,
  mostlyDown,
  onsetOf,
  withoutCategories,
  type Condition,
  type RuleContext,
} from './common.js';

/** The international group the cut is judged on (null without a home country). */
export function cutGroup(ctx: RuleContext): Group | null {
  const { index, home } = ctx;
  if (index.international === null || home === undefined) return null;
  return withoutCategories(index.international, ctx.blocked.get(home), ctx.s);
}

export function gatewayCut(ctx: RuleContext): Condition | null {
  const { index, s, home } = ctx;
  const dom = index.domestic;
  const g = cutGroup(ctx);
  if (home === undefined || dom === null || g === null) return null;
  if (!mostlyDown(g, s.shutdown_ratio, s.shutdown_min_targets)) return null;
  if (dom.eligible < 1 || mostlyDown(dom, s.shutdown_ratio, 1)) return null;
  if (concentratedOnOneCountry(g, ctx)) return null;
  if (!answeredAcross(dom.members, onsetOf(g.down, needed(s.shutdown_ratio, g.eligible)), ctx.excused)) return null;
  return condition('shutdown', { country: home }, g, g.down, mechanismOfTargets(g.down));
}

/**
 * The down members are mostly one foreign country's and the rest of the international targets is
 * not mostly down: that country is dark, the gateway is not.
 */
function concentratedOnOneCountry(g: Group, ctx: RuleContext): boolean {
  const counts = new Map<string, number>();
  let top: string | null = null;
  for (const t of g.down) {
    const n = (counts.get(t.target.country) ?? 0) + 1;
    counts.set(t.target.country, n);
    if (top === null || n > (counts.get(top) ?? 0)) top = t.target.country;
  }
  if (top === null) return false;
  const country = top;
  const rest = g.filtered((t) => t.target.country !== country, ctx.s.degradation_latency_ratio);
  return rest.eligible > 0 && !mostlyDown(rest, ctx.s.shutdown_ratio, 1);
}
