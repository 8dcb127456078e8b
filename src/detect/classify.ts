/**
 * One evaluation's verdicts: from the filled groups, which event conditions hold right now
 * (before hysteresis), and whether the vantage point can see at all. Pure. C = vantage country.
 *
 * - vantage_offline: >= vantage_offline_ratio of eligible controls down; inside-out it needs a
 *   domestic probe failing after the controls did, and a domestic answer vetoes it. Without
 *   eligible controls the vantage state is unknown (null) and country events are not blocked.
 * - shutdown of C (gateway cut): international targets (without categories already blocked)
 *   >= shutdown_min_targets, >= shutdown_ratio down, domestic < shutdown_ratio down and answering.
 *   Then no foreign shutdowns.
 * - shutdown of X != C: >= shutdown_min_targets eligible, >= shutdown_ratio down, others answered;
 *   inside-out also: the rest of the international targets mostly up, and not mostly explained
 *   by blocked categories.
 * - partial_outage (X, asn): >= partial_min_targets, >= partial_ratio down, the rest of X mostly
 *   up and answering, X not in shutdown. Inside-out only for domestic ASNs.
 * - service_blocking (scope, category): >= partial_min_targets, >= partial_ratio down, a known
 *   mechanism, another category of the scope mostly up and answering, scope not in shutdown.
 * - degradation: median latency ratio >= degradation_latency_ratio over >= shutdown_min_targets
 *   measurable targets: per country outside-in, over the international targets (as C) inside-out.
 *
 * A recurring test, "answered across R": some target outside the failing group had a success
 * whose probe started after R (by when the members the condition needs had all begun failing),
 * is not down, and was not itself part of the failure: it never recovered from down, or
 * recovered before the group's first failure, or recovered before enough of the group failed again, or recovered from a failure the vantage's own outage explains. A success proves the
 * vantage was online then; "not part of the failure" proves the rest was working while the group
 * failed, so it is about the group. This keeps both races from being read as events: the onset
 * race (targets fail one by one, the controls may be among the last) and the recovery race (the
 * last targets of a larger outage still down while the others are back).
 */
import type { FailureReason } from '../probers/reasons.js';
import type { EventKind, Mechanism, Severity } from './events.js';
import type { Group, GroupIndex } from './groups.js';
import { dominantMechanism } from './mechanism.js';
import type { DetectionSettings, VantageInfo } from './options.js';
import { atLeast, median, needed } from './stats.js';
import type { TargetTracker } from './target-state.js';

/** An event condition that holds at this evaluation. */
export interface Condition {
  key: string;
  kind: EventKind;
  country: string | null;
  asn: number | null;
  category: string | null;
  /** The group the verdict is about (its counts are the evidence). */
  group: Group;
  /** Down members (slow members for degradation) that make it true. */
  contributors: TargetTracker[];
  mechanism: Mechanism | null;
  severity: Severity;
  /** Median latency ratio, for degradation. */
  latencyRatio?: number;
}

export interface Verdict {
  /** false: vantage offline; true: controls fine (or vetoed); null: no eligible controls. */
  online: boolean | null;
  /**
   * vantage_offline holds: >= vantage_offline_ratio of the eligible controls down, not vetoed,
   * and (inside-out, with domestic targets) a domestic probe failed after the controls began to.
   */
  offline: boolean;
  /**
   * Country events are frozen: the controls that are down or whose latest probe failed reach
   * vantage_offline_ratio (not vetoed). Reacts one confirm earlier than `offline`, so a country
   * event cannot open in the seconds before the controls are confirmed down.
   */
  frozen: boolean;
  /**
   * Inside-out only: the controls fail but domestic targets answered after they began failing,
   * so the vantage is online (the controls are cut off or blocked, not us).
   */
  vetoed: boolean;
  /** When offline: lower bound of the onset (latest success of the failing controls). */
  blindStart: number | null;
  /**
   * Countries whose shutdown condition holds: their other events (partial_outage,
   * service_blocking, degradation) are frozen meanwhile, as we cannot judge them.
   */
  inShutdown: Set<string>;
  conditions: Condition[];
}

export function conditionKey(kind: EventKind, country: string | null, asn: number | null, category: string | null): string {
  return `${kind}|${country ?? '-'}|${asn ?? '-'}|${category ?? '-'}`;
}

/** The group an event of this identity is judged on; null when no such group exists (anymore). */
export function lookupGroup(
  index: GroupIndex,
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
      return index.categories.get(`${country}|${category}`)?.group ?? null;
  }
}

/** Tells whether a failure streak that began at `failStart` is explained by the vantage being offline. */
export type Excused = (failStart: number | null) => boolean;

/** What classify() needs to know about the detector's own state. */
export interface ClassifyContext {
  excused: Excused;
  /**
   * Categories with an open service_blocking event, by scope (country). A shutdown is judged
   * without them: targets already known to be blocked say nothing about a cut.
   */
  blocked: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Reference times of a failing group whose condition needs k failing members: `start`, the k-th
 * earliest failure start (when enough members had begun failing for the condition); `first`, the
 * earliest failure start; `lastFail`, the k-th latest latest-failure (enough members failed at
 * or after it).
 */
interface Onset {
  start: number;
  first: number;
  lastFail: number;
}

function onsetOf(failing: readonly TargetTracker[], k: number): Onset {
  const starts = failing.map((t) => t.failStart).filter((x): x is number => x !== null).sort((a, b) => a - b);
  const fails = failing.map((t) => t.lastFailAt).filter((x): x is number => x !== null).sort((a, b) => b - a);
  const pick = (xs: number[]): number => (xs.length === 0 ? -Infinity : (xs[Math.min(k, xs.length) - 1] as number));
  return { start: pick(starts), first: starts[0] ?? -Infinity, lastFail: pick(fails) };
}

function answeredAcross(
  members: readonly TargetTracker[],
  onset: Onset,
  excused: Excused,
  skip?: (t: TargetTracker) => boolean,
): boolean {
  for (const t of members) {
    if (t.lastOkAt === null || t.lastOkAt <= onset.start || t.state === 'down' || (skip?.(t) ?? false)) continue;
    const r = t.recoveredAt;
    if (r === null || r <= onset.first || r < onset.lastFail || excused(t.recoveredFrom)) return true;
  }
  return false;
}

function reasons(ts: readonly TargetTracker[]): FailureReason[] {
  return ts.map((t) => t.lastReason ?? 'unknown');
}

export function classify(index: GroupIndex, s: DetectionSettings, vantage: VantageInfo, ctx: ClassifyContext): Verdict {
  const excused = ctx.excused;
  const slowRatio = s.degradation_latency_ratio;
  const without = (g: Group, cats: ReadonlySet<string> | undefined): Group =>
    cats === undefined || cats.size === 0 ? g : g.filtered((t) => !cats.has(t.target.category), slowRatio);
  const home = vantage.country;
  const dom = index.domestic;
  const intl = index.international;
  const conditions: Condition[] = [];
  const make = (
    kind: EventKind,
    country: string | null,
    asn: number | null,
    category: string | null,
    group: Group,
    contributors: TargetTracker[],
    mechanism: Mechanism | null,
    severity: Severity,
    latencyRatio?: number,
  ): Condition => ({
    key: conditionKey(kind, country, asn, category),
    kind,
    country,
    asn,
    category,
    group,
    contributors,
    mechanism,
    severity,
    ...(latencyRatio === undefined ? {} : { latencyRatio }),
  });

  // Inside-out gateway cut: international mostly down while domestic targets answer after it began.
  const cutGroup = intl !== null && home !== undefined ? without(intl, ctx.blocked.get(home)) : null;
  let cut = false;
  if (dom !== null && cutGroup !== null) {
    cut =
      cutGroup.eligible >= s.shutdown_min_targets &&
      atLeast(cutGroup.down.length, cutGroup.eligible, s.shutdown_ratio) &&
      dom.eligible >= 1 &&
      !atLeast(dom.down.length, dom.eligible, s.shutdown_ratio) &&
      answeredAcross(dom.members, onsetOf(cutGroup.down, needed(s.shutdown_ratio, cutGroup.eligible)), excused);
  }

  const ctl = index.controls;
  let online: boolean | null = null;
  let offline = false;
  let frozen = false;
  let vetoed = false;
  let blindStart: number | null = null;
  if (ctl.eligible > 0) {
    const confirmed = atLeast(ctl.down.length, ctl.eligible, s.vantage_offline_ratio);
    const shaky = atLeast(ctl.bad, ctl.eligible, s.vantage_offline_ratio);
    const failing = ctl.members.filter((t) => t.state === 'down' || t.latestOk === false);
    // Inside-out, the domestic targets decide: one answering after the controls began failing
    // vetoes (the controls are cut off, not us); until one has failed after that, we wait.
    let undecided = false;
    if (shaky && !cut && dom !== null && dom.eligible > 0) {
      const onset = onsetOf(failing, needed(s.vantage_offline_ratio, ctl.eligible));
      vetoed = answeredAcross(dom.members, onset, excused);
      undecided = !vetoed && !dom.members.some((t) => t.lastFailAt !== null && t.lastFailAt > onset.start);
    }
    if (cut || vetoed) {
      online = true;
    } else {
      offline = confirmed && !undecided;
      frozen = shaky || confirmed;
      online = !confirmed;
    }
    if (offline) {
      let latestOk = -Infinity;
      for (const t of failing) if (t.lastOkAt !== null && t.lastOkAt > latestOk) latestOk = t.lastOkAt;
      blindStart = Number.isFinite(latestOk) ? latestOk : Math.min(...failing.map((t) => t.failStart ?? Infinity));
    }
  }

  const shutdown = new Set<string>();
  const verdict: Verdict = { online, offline, frozen, vetoed, blindStart, inShutdown: shutdown, conditions };
  if (offline) {
    conditions.push(
      make('vantage_offline', home ?? null, null, null, ctl, ctl.down, dominantMechanism(reasons(ctl.down)), 'critical'),
    );
  }
  if (frozen) return verdict;

  if (cut && home !== undefined && cutGroup !== null) {
    const g = cutGroup;
    conditions.push(make('shutdown', home, null, null, g, g.down, dominantMechanism(reasons(g.down)), 'critical'));
    shutdown.add(home);
  }
  const blocked = new Set<string>();
  const blockings = (): void => {
    // Targets of an ASN that is out right now are explained by that outage: a category whose
    // failures are only those says nothing about blocking (it would name a long ASN outage as
    // a blocking as soon as one other target of the category lost a probe).
    const outAsns = new Set(conditions.filter((c) => c.kind === 'partial_outage').map((c) => `${c.country}\u0000${c.asn}`));
    const explained = (t: TargetTracker): boolean => outAsns.has(`${t.target.country}\u0000${t.target.asn}`);
    for (const { scope, category, group: whole } of index.categories.values()) {
      if (category === 'control' || shutdown.has(scope)) continue;
      const g = outAsns.size === 0 ? whole : whole.filtered((t) => !explained(t), slowRatio);
      if (g.eligible < s.partial_min_targets || !atLeast(g.down.length, g.eligible, s.partial_ratio)) continue;
      const mechanism = dominantMechanism(reasons(g.down));
      // A blocking has an interference signature; failures of unknown cause are not called one.
      if (mechanism === null) continue;
      const onset = onsetOf(g.down, needed(s.partial_ratio, g.eligible));
      // Inside-out, when only international targets of K fail, only international targets of other
      // categories can show that the failure is specific to K and not the whole gateway.
      const domesticDown = home !== undefined && g.down.some((t) => t.target.country === home);
      const skip = (t: TargetTracker): boolean => home !== undefined && !domesticDown && t.target.country === home;
      let otherWorks = false;
      for (const other of index.categories.values()) {
        if (other.scope !== scope || other.category === category || other.category === 'control') continue;
        const o = other.group;
        if (o.eligible >= 1 && !atLeast(o.bad, o.eligible, s.partial_ratio) && answeredAcross(o.members, onset, excused, skip)) {
          otherWorks = true;
          break;
        }
      }
      if (!otherWorks) continue;
      conditions.push(make('service_blocking', scope, null, category, g, g.down, mechanism, 'warning'));
      blocked.add(category);
    }
  };
  // Inside-out the blockings are judged first: a foreign country whose failing targets are mostly
  // in blocked categories is blocked, not shut down.
  if (home !== undefined) blockings();
  if (!cut) {
    for (const [country, whole] of index.countries) {
      if (country === home) continue;
      if (whole.eligible < s.shutdown_min_targets || !atLeast(whole.down.length, whole.eligible, s.shutdown_ratio)) continue;
      // Inside-out, categories blocked in C (open or holding now) are not evidence of a cut of X.
      const excluded = home === undefined ? ctx.blocked.get(country) : new Set([...(ctx.blocked.get(home) ?? []), ...blocked]);
      const g = without(whole, excluded);
      if (g.eligible < s.shutdown_min_targets || !atLeast(g.down.length, g.eligible, s.shutdown_ratio)) continue;
      // Inside-out: when the rest of the world fails too, it is not about this country.
      if (cutGroup !== null) {
        const rest = cutGroup.filtered((t) => t.target.country !== country, slowRatio);
        if (rest.eligible > 0 && atLeast(rest.down.length, rest.eligible, s.shutdown_ratio)) continue;
      }
      if (!othersAnswered(index, country, onsetOf(g.down, needed(s.shutdown_ratio, g.eligible)), excused)) continue;
      conditions.push(make('shutdown', country, null, null, g, g.down, dominantMechanism(reasons(g.down)), 'critical'));
      shutdown.add(country);
    }
  }

  for (const { country, asn, group: g } of index.asns.values()) {
    // Inside-out, an unreachable foreign ASN is what a blocking looks like: only domestic ASNs.
    if (shutdown.has(country) || (home !== undefined && country !== home)) continue;
    if (g.eligible < s.partial_min_targets || !atLeast(g.down.length, g.eligible, s.partial_ratio)) continue;
    const whole = index.countries.get(country);
    if (!whole) continue;
    const restE = whole.eligible - g.eligible;
    if (restE < 1 || atLeast(whole.bad - g.bad, restE, s.partial_ratio)) continue;
    if (!answeredAcross(whole.members, onsetOf(g.down, needed(s.partial_ratio, g.eligible)), excused, (t) => t.target.asn === asn)) continue;
    conditions.push(
      make('partial_outage', country, asn, null, g, g.down, dominantMechanism(reasons(g.down)), 'warning'),
    );
  }

  if (home === undefined) blockings();

  if (home !== undefined) {
    // Inside-out, slowness is judged over all international targets (named after C); per foreign
    // country it would repeat the same throttling once per country.
    const ratio = intl !== null && !shutdown.has(home) ? slowMedian(intl, s) : null;
    if (ratio !== null && intl !== null) conditions.push(make('degradation', home, null, null, intl, intl.slow, null, 'warning', ratio));
  } else {
    for (const [country, g] of index.countries) {
      if (shutdown.has(country)) continue;
      const ratio = slowMedian(g, s);
      if (ratio !== null) conditions.push(make('degradation', country, null, null, g, g.slow, null, 'warning', ratio));
    }
  }
  return verdict;
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

/** Median latency ratio when it reaches the threshold over enough targets, else null. */
function slowMedian(g: Group, s: DetectionSettings): number | null {
  if (g.ratios.length < s.shutdown_min_targets) return null;
  const m = median(g.ratios);
  return m >= s.degradation_latency_ratio ? m : null;
}

/**
 * Some eligible target outside `country` answered across the onset: a control or a target of another
 * country. Inside-out only international ones count (domestic targets answering says nothing
 * about whether the cut is specific to `country` or gateway-wide).
 */
function othersAnswered(index: GroupIndex, country: string, onset: Onset, excused: Excused): boolean {
  if (answeredAcross(index.controls.members, onset, excused)) return true;
  const home = index.vantage.country;
  for (const [c, g] of index.countries) {
    if (c !== country && c !== home && answeredAcross(g.members, onset, excused)) return true;
  }
  return false;
}
