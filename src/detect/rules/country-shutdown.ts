/**
 * Rule 3, the shutdown of a country X judged outside-in (every country but the home one):
 * X's eligible targets >= shutdown_min_targets and >= shutdown_ratio down, while something
 * outside X answered across the onset (a control, or another foreign country's target).
 *
 * What is not X's shutdown although X's targets fail:
 * - categories failing the same way outside X too, or already blocked: those failures are about
 *   the category, on the vantage's side (rule 5); X is judged without them;
 * - seen from a vantage with a home country, failures with an interference signature: a dark
 *   country does not answer with resets or blockpages; that is blocking in the home country.
 *   With no home country, interference concentrated on one country is that country's disruption;
 * - seen from a vantage with a home country, failures of a single category that has no members
 *   elsewhere to compare with (nothing shows it is the place and not the category).
 */
import { needed } from '../stats.js';
import type { TargetTracker } from '../target-state.js';
import { condition, failingPlace, mostlyDown, onsetOf, type Condition, type Onset, type RuleContext, witnessed } from './common.js';

export function countryShutdowns(ctx: RuleContext): Condition[] {
  const { index, s, home } = ctx;
  const out: Condition[] = [];
  for (const [country, whole] of index.countries) {
    if (country === home || !mostlyDown(whole, s.shutdown_ratio, s.shutdown_min_targets)) continue;
    const inside = (t: TargetTracker): boolean => t.target.country === country;
    const blocked = [ctx.blocked.get(home ?? country), ctx.blocked.get('')];
    const place = failingPlace(ctx, whole, country, inside, s.shutdown_ratio, s.shutdown_min_targets, blocked);
    if (place === null) continue;
    const { group: g, mechanism } = place;
    if (!othersAnswered(ctx, country, onsetOf(g.down, needed(s.shutdown_ratio, g.eligible)))) continue;
    out.push(condition('shutdown', { country }, g, g.down, mechanism));
  }
  return out;
}

/**
 * Some eligible target outside `country` answered across the onset: a control or a target of
 * another country. From a vantage with a home country only foreign ones count: domestic targets
 * answering says nothing about whether the failure is this country's or the gateway's.
 */
function othersAnswered(ctx: RuleContext, country: string, onset: Onset): boolean {
  const lists: (readonly TargetTracker[])[] = [ctx.index.controls.members];
  for (const [c, g] of ctx.index.countries) if (c !== country && c !== ctx.home) lists.push(g.members);
  return witnessed(lists, onset, ctx.excused);
}
