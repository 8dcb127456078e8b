/**
 * Rule 5, service blocking: one category unreachable with a named mechanism while other
 * categories answer. Failures explained by a shutdown or an ASN outage (rules 2-4) are left out.
 *
 * With a home country (scope = home; one event per category): the category's members taken
 * all together, its international members, its domestic members, or its members in one foreign
 * country (the last only with an interference signature: timeouts on one country's targets are
 * not named a blocking) are >= partial_min_targets and >= partial_ratio down. Interference seen
 * from inside is on the vantage's side, wherever the targets are.
 *
 * With no home country: a category failing in several countries at once is on the vantage's own
 * side (event country null); a category failing within one country is that country's blocking.
 *
 * Another category must have answered across the onset; when only international members fail,
 * only international members of other categories can show that the failure is the category's
 * and not the whole gateway's.
 */
import type { Group, GroupIndex } from '../groups.js';
import type { DetectionSettings } from '../options.js';
import { atLeast, needed } from '../stats.js';
import type { TargetTracker } from '../target-state.js';
import {
  answeredAcross,
  condition,
  isInterference,
  mechanismOfTargets,
  mostlyDown,
  onsetOf,
  type Condition,
  type RuleContext,
  witnessed,
} from './common.js';
import type { Explained } from './explained.js';

interface Candidate {
  group: Group;
  /** Only an interference signature makes this candidate a blocking. */
  interferenceOnly: boolean;
}

export function blockings(ctx: RuleContext, dark: ReadonlySet<string>, explained: Explained): Condition[] {
  return ctx.home === undefined ? blockingsOutsideIn(ctx, dark, explained) : blockingsAtHome(ctx, ctx.home, explained);
}

function blockingsAtHome(ctx: RuleContext, home: string, explained: Explained): Condition[] {
  const { index } = ctx;
  const out: Condition[] = [];
  const byCountry = new Map<string, Candidate[]>();
  for (const { country, category, group } of index.categoriesIn.values()) {
    if (country === null || country === home) continue;
    const list = byCountry.get(category) ?? [];
    list.push({ group, interferenceOnly: true });
    byCountry.set(category, list);
  }
  for (const { category, group } of index.categories.values()) {
    const candidates: Candidate[] = [{ group, interferenceOnly: false }];
    const intl = index.categoriesInternational.get(category);
    if (intl) candidates.push({ group: intl, interferenceOnly: false });
    const dom = index.categoriesDomestic.get(category);
    if (dom) candidates.push({ group: dom, interferenceOnly: false });
    candidates.push(...(byCountry.get(category) ?? []));
    for (const c of candidates) {
      const found = judge(ctx, c, explained, home, category, () => true);
      if (found) {
        out.push(found);
        break;
      }
    }
  }
  return out;
}

function blockingsOutsideIn(ctx: RuleContext, dark: ReadonlySet<string>, explained: Explained): Condition[] {
  const { index } = ctx;
  const out: Condition[] = [];
  // A category blocked on the vantage's side (open, or holding now) is not also blocked per country.
  const wide = new Set<string>(ctx.blocked.get('') ?? []);
  for (const { category, group } of index.categories.values()) {
    const found = judge(ctx, { group, interferenceOnly: false }, explained, null, category, (down) => countries(down) >= 2);
    if (found) {
      out.push(found);
      wide.add(category);
    }
  }
  for (const { country, category, group } of index.categoriesIn.values()) {
    if (country === null || dark.has(country) || wide.has(category)) continue;
    const found = judge(ctx, { group, interferenceOnly: false }, explained, country, category, () => true);
    if (found) out.push(found);
  }
  return out;
}

function countries(ts: readonly TargetTracker[]): number {
  return new Set(ts.map((t) => t.target.country)).size;
}

/** The blocking condition of one candidate group, or null. */
function judge(
  ctx: RuleContext,
  candidate: Candidate,
  explained: Explained,
  country: string | null,
  category: string,
  spread: (down: readonly TargetTracker[]) => boolean,
): Condition | null {
  const { s, index, home } = ctx;
  let g = candidate.group;
  if (g.down.some(explained)) g = g.filtered((t) => !explained(t), s.degradation_latency_ratio);
  if (!mostlyDown(g, s.partial_ratio, s.partial_min_targets) || !spread(g.down)) return null;
  const mechanism = mechanismOfTargets(g.down);
  if (mechanism === null || (candidate.interferenceOnly && !isInterference(mechanism))) return null;
  const onset = onsetOf(g.down, needed(s.partial_ratio, g.eligible));
  const domesticDown = home !== undefined && g.down.some((t) => t.target.country === home);
  const skip = (t: TargetTracker): boolean => explained(t) || (home !== undefined && !domesticDown && t.target.country === home);
  // Outside-in, a country's blocking is shown by that country's other categories answering.
  const perCountry = home === undefined && country !== null;
  const others: (readonly TargetTracker[])[] = [];
  for (const other of perCountry ? index.categoriesIn.values() : index.categories.values()) {
    if (other.category === category || (perCountry && other.country !== country)) continue;
    const o = other.group;
    // A category that is itself mostly failing proves nothing about this one.
    if (o.eligible < 1 || atLeast(o.bad, o.eligible, s.partial_ratio)) continue;
    others.push(o.members);
  }
  const othersAnswer = witnessed(others, onset, ctx.excused, skip);
  // ...and it is that country's only while the category answers elsewhere: failing in several
  // countries at once it is on the vantage's side (judged across countries, country null).
  if (othersAnswer && perCountry) {
    const elsewhere = index.categories.get(category)?.group.members.filter((t) => t.target.country !== country) ?? [];
    if (elsewhere.length > 0 && !answeredAcross(elsewhere, onset, ctx.excused, explained)) return null;
  }
  if (!othersAnswer) return null;
  return condition('service_blocking', { country, category }, g, g.down, mechanism);
}

/**
 * The group an open blocking is judged on: with no home country, the category in its country (or
 * across all countries for country null); at home, the first of the category's groups (all,
 * international, domestic, in one foreign country) whose down ratio holds, else the one with the
 * largest down share.
 */
export function blockingGroup(index: GroupIndex, s: DetectionSettings, country: string | null, category: string): Group | null {
  const home = index.vantage.country;
  if (country === null) return index.categories.get(category)?.group ?? null;
  if (home === undefined || country !== home) return index.categoriesIn.get(`${country}|${category}`)?.group ?? null;
  const candidates: Group[] = [];
  for (const g of [index.categories.get(category)?.group, index.categoriesInternational.get(category), index.categoriesDomestic.get(category)]) {
    if (g) candidates.push(g);
  }
  for (const c of index.categoriesIn.values()) if (c.category === category && c.country !== home) candidates.push(c.group);
  let best: Group | null = null;
  let share = -1;
  for (const g of candidates) {
    if (mostlyDown(g, s.partial_ratio, s.partial_min_targets)) return g;
    const x = g.eligible === 0 ? 0 : g.down.length / g.eligible;
    if (x > share) {
      best = g;
      share = x;
    }
  }
  return best;
}
