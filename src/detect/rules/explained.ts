/**
 * What rules 2-4 explain, for rule 5: targets whose failure is no evidence of a blocking
 * (docs/detection.md, rule 5). A target is explained when its country is dark (its shutdown
 * holds), when its ASN is out (its partial_outage holds, or it is mostly timing out across two or
 * more categories), or when its country is a foreign one going dark (mostly failing without an
 * interference signature, before its own shutdown condition holds).
 */
import { atLeast } from '../stats.js';
import type { TargetTracker } from '../target-state.js';
import { isInterference, mechanismOfTargets, mostlyDown, type Condition, type RuleContext } from './common.js';

/** Targets whose failure a shutdown or an ASN outage of this evaluation already explains. */
export type Explained = (t: TargetTracker) => boolean;

/**
 * @param dark countries whose shutdown holds
 * @param outages the partial_outage conditions that hold
 */
export function explainedFailures(ctx: RuleContext, dark: ReadonlySet<string>, outages: readonly Condition[]): Explained {
  const { index, s, home } = ctx;
  const out = new Set(outages.map((c) => `${c.country}|${c.asn}`));
  // An ASN mostly timing out across two or more categories is about the ASN even where its
  // country's outage condition does not hold (a shutdown progressing ASN by ASN, past half the
  // country). Interference across an ASN's categories is left to the blocking rule.
  for (const { country, asn, group } of index.asns.values()) {
    if (
      mostlyDown(group, s.partial_ratio, s.partial_min_targets) &&
      !isInterference(mechanismOfTargets(group.down)) &&
      new Set(group.down.map((t) => t.target.category)).size >= 2
    ) {
      out.add(`${country}|${asn}`);
    }
  }
  // A foreign country whose targets are mostly failing without interference is going dark (its
  // shutdown condition may not hold yet, as its targets fail one by one): its members are no
  // evidence of a blocking either.
  const darkening = new Set<string>();
  for (const [country, g] of index.countries) {
    if (country === home || g.eligible < s.shutdown_min_targets || !atLeast(g.bad, g.eligible, s.partial_ratio)) continue;
    const failing = g.members.filter((t) => t.state === 'down' || t.latestOk === false);
    if (!isInterference(mechanismOfTargets(failing))) darkening.add(country);
  }
  return (t) =>
    dark.has(t.target.country) || darkening.has(t.target.country) || (t.target.asn !== undefined && out.has(`${t.target.country}|${t.target.asn}`));
}
