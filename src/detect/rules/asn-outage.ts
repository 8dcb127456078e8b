/**
 * Rule 4, the outage of one ASN of a country X (the home country's ASNs too): the ASN's eligible
 * targets >= partial_min_targets and >= partial_ratio down, while the rest of X (at least
 * partial_min_targets eligible) is mostly up and answered across the onset (two witnesses where
 * two can answer). Not judged for a country in shutdown.
 *
 * Not an outage of the ASN although its targets fail:
 * - categories failing the same way outside X (a blocking: rule 5), judged without them (outside
 *   X, not outside the ASN: a shutdown progressing ASN by ASN fails the same categories in X);
 * - for a foreign ASN seen from a vantage with a home country, failures with an interference
 *   signature (blocking in the home country), or failures of one category with no members outside
 *   the ASN to compare with. Timeouts concentrated on one ASN while the same categories elsewhere
 *   answer are an outage there.
 */
import { atLeast, needed } from '../stats.js';
import { condition, failingPlace, mostlyDown, onsetOf, type Condition, type RuleContext, witnessed } from './common.js';

/** @param dark countries whose shutdown holds (their ASNs are not judged). */
export function asnOutages(ctx: RuleContext, dark: ReadonlySet<string>): Condition[] {
  const { index, s } = ctx;
  const out: Condition[] = [];
  for (const { country, asn, group: whole } of index.asns.values()) {
    if (dark.has(country) || !mostlyDown(whole, s.partial_ratio, s.partial_min_targets)) continue;
    const place = failingPlace(ctx, whole, country, (t) => t.target.country === country && t.target.asn === asn, s.partial_ratio, s.partial_min_targets);
    if (place === null) continue;
    const { group: g, mechanism } = place;
    const rest = index.countries.get(country);
    if (!rest) continue;
    const restEligible = rest.eligible - whole.eligible;
    // The rest of the country is the evidence that this is the ASN: as many targets as an ASN
    // needs, so one target that stays up whatever happens (served from a CDN abroad) is not it.
    if (restEligible < s.partial_min_targets || atLeast(rest.bad - whole.bad, restEligible, s.partial_ratio)) continue;
    const onset = onsetOf(g.down, needed(s.partial_ratio, g.eligible));
    if (!witnessed([rest.members], onset, ctx.excused, (t) => t.target.asn === asn)) continue;
    out.push(condition('partial_outage', { country, asn }, g, g.down, mechanism));
  }
  return out;
}
