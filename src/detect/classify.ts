/**
 * One evaluation's verdicts: which event conditions hold right now (before hysteresis), and
 * whether the vantage point can see at all. Pure. The rules live in ./rules/, one file each,
 * and are composed here in this order of precedence (docs/design.md "Detection rules"):
 *
 *   1. vantage      (rules/vantage.ts)          the vantage's own connectivity; offline freezes all else
 *   2. gateway cut  (rules/gateway-cut.ts)      shutdown of the home country, inside-out
 *   3. shutdown     (rules/country-shutdown.ts) of a foreign country (every country without a home), outside-in
 *   4. ASN outage   (rules/asn-outage.ts)       partial_outage of one ASN, where its country is not dark
 *   5. blocking     (rules/blocking.ts)         service_blocking of a category, failures of 2-4 left out
 *   6. degradation  (rules/degradation.ts)      throttling, where the country is not dark
 *
 * A higher rule's verdict takes away what it explains from the lower ones: a dark country has
 * no ASN outage, blocking or degradation judged; targets of a dark country or of an ASN that is
 * out are no evidence of a blocking. The gateway cut is judged before the vantage since it
 * explains failing controls (they sit abroad).
 */
import type { EventKind } from './events.js';
import type { Group, GroupIndex } from './groups.js';
import type { DetectionSettings, VantageInfo } from './options.js';
import type { TargetTracker } from './target-state.js';
import { atLeast, median } from './stats.js';
import { asnOutages } from './rules/asn-outage.js';
import { blockings } from './rules/blocking.js';
import { categoryPool, isInterference, mechanismOfTargets, mostlyDown, type Condition, type Excused, type RuleContext } from './rules/common.js';
import { countryShutdowns } from './rules/country-shutdown.js';
import { degradations } from './rules/degradation.js';
import { gatewayCut } from './rules/gateway-cut.js';
import { judgeVantage, type VantageVerdict } from './rules/vantage.js';

export { conditionKey, type Condition, type Excused } from './rules/common.js';

export interface Verdict {
  vantage: VantageVerdict;
  /** Countries whose shutdown condition holds: their other events are frozen meanwhile. */
  inShutdown: Set<string>;
  conditions: Condition[];
}

/** What classify() needs to know about the detector's own state. */
export interface ClassifyContext {
  excused: Excused;
  /** Categories with an open service_blocking event, by the event's country ('' for null). */
  blocked: ReadonlyMap<string, ReadonlySet<string>>;
}

export function classify(index: GroupIndex, s: DetectionSettings, vantage: VantageInfo, ctx: ClassifyContext): Verdict {
  const home = vantage.country;
  const rc: RuleContext = { index, s, home, excused: ctx.excused, blocked: ctx.blocked, pool: categoryPool(index, home) };
  const conditions: Condition[] = [];
  const dark = new Set<string>();
  const cut = gatewayCut(rc);
  const v = judgeVantage(rc, cut !== null);
  const verdict: Verdict = { vantage: v, inShutdown: dark, conditions };
  if (v.condition) conditions.push(v.condition);
  if (v.frozen) return verdict;

  if (cut !== null && home !== undefined) {
    conditions.push(cut);
    dark.add(home);
  } else {
    for (const c of countryShutdowns(rc)) {
      conditions.push(c);
      if (c.country !== null) dark.add(c.country);
    }
  }
  const outages = asnOutages(rc, dark);
  conditions.push(...outages);
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
  const explained = (t: TargetTracker): boolean =>
    dark.has(t.target.country) || darkening.has(t.target.country) || (t.target.asn !== undefined && out.has(`${t.target.country}|${t.target.asn}`));
  conditions.push(...blockings(rc, dark, explained));
  conditions.push(...degradations(rc, dark));
  return verdict;
}

/** The group an event of this identity is judged on; null when no such group exists (anymore). */
export function lookupGroup(
  index: GroupIndex,
  s: DetectionSettings,
  kind: EventKind,
  country: string | null,
  asn: number | null,
  category: string | null,
): Group | null {
  const home = index.vantage.country;
  switch (kind) {
    case 'vantage_offline':
      return index.controls;
    case 'shutdown':
    case 'degradation':
      if (country !== null && country === home) return index.international;
      return country === null ? null : (index.countries.get(country) ?? null);
    case 'partial_outage':
      return index.asns.get(`${country}|${asn}`)?.group ?? null;
    case 'service_blocking':
      return category === null ? null : blockingGroup(index, s, country, category);
  }
}

/**
 * The group a blocking is judged on: with no home country, the category in its country (or
 * across all countries for country null); at home, the first of the category's groups (all,
 * international, domestic, in one foreign country) whose down ratio holds, else the one with the
 * largest down share.
 */
function blockingGroup(index: GroupIndex, s: DetectionSettings, country: string | null, category: string): Group | null {
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
    if (g.eligible >= s.partial_min_targets && atLeast(g.down.length, g.eligible, s.partial_ratio)) return g;
    const x = g.eligible === 0 ? 0 : g.down.length / g.eligible;
    if (x > share) {
      best = g;
      share = x;
    }
  }
  return best;
}

/**
 * The core of an open event's condition, judged on its group alone: the down ratio (with the
 * minimum size), or for degradation the median latency ratio over whatever can be measured. An
 * open event stays open while its core holds, even when the context that was needed to open it
 * (others answering, enough measurable targets) is gone; it closes when its own targets recover.
 * vantage_offline has no core: it closes as soon as it is vetoed or the controls answer.
 */
export function coreHolds(kind: EventKind, group: Group, s: DetectionSettings): boolean {
  switch (kind) {
    case 'vantage_offline':
      return false;
    case 'shutdown':
      return group.eligible >= s.shutdown_min_targets && atLeast(group.down.length, group.eligible, s.shutdown_ratio);
    case 'partial_outage':
    case 'service_blocking':
      return group.eligible >= s.partial_min_targets && atLeast(group.down.length, group.eligible, s.partial_ratio);
    case 'degradation':
      return group.ratios.length > 0 && median(group.ratios) >= s.degradation_latency_ratio;
  }
}
