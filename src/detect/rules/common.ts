/**
 * What every detection rule shares: the evaluation context, the Condition a rule yields, and the
 * tests rules are built from (onset of a failing group, "answered across", interference, which
 * categories fail outside a group). Pure.
 */
import type { EventKind, Mechanism } from '../events.js';
import type { Group, GroupIndex } from '../groups.js';
import { dominantOf, mechanismOfFailure } from '../mechanism.js';
import type { DetectionSettings } from '../options.js';
import { atLeast } from '../stats.js';
import type { TargetTracker } from '../target-state.js';

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
  /** Median latency ratio, for degradation. */
  latencyRatio?: number;
  /** Set when block evidence holds too (rules/blocks.ts): when its blocks' fall began. */
  blockSince?: number;
}

/** Tells whether a failure streak that began at `failStart` is explained by the vantage being offline. */
export type Excused = (failStart: number | null) => boolean;

/** One evaluation's inputs, as every rule sees them. */
export interface RuleContext {
  index: GroupIndex;
  s: DetectionSettings;
  /** The vantage's own country (inside-out for it); undefined: every country is judged outside-in. */
  home: string | undefined;
  excused: Excused;
  /**
   * Categories with an open service_blocking event, by the event's country ('' for null). Targets
   * already known to be blocked say nothing about a cut or an outage.
   */
  blocked: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Category groups a group's members are compared with to tell "this place" from "this
   * category": the international members by category from a vantage with a home country
   * (domestic members of a category blocked abroad still answer), else all members by category.
   */
  pool: ReadonlyMap<string, Group>;
}

export function conditionKey(kind: EventKind, country: string | null, asn: number | null, category: string | null): string {
  return `${kind}|${country ?? '-'}|${asn ?? '-'}|${category ?? '-'}`;
}

export function condition(
  kind: EventKind,
  where: { country: string | null; asn?: number | null; category?: string | null },
  group: Group,
  contributors: TargetTracker[],
  mechanism: Mechanism | null,
  latencyRatio?: number,
): Condition {
  const asn = where.asn ?? null;
  const category = where.category ?? null;
  const c: Condition = {
    key: conditionKey(kind, where.country, asn, category),
    kind,
    country: where.country,
    asn,
    category,
    group,
    contributors,
    mechanism,
  };
  if (latencyRatio !== undefined) c.latencyRatio = latencyRatio;
  return c;
}

/**
 * Reference times of a failing group whose condition needs k failing members: `start`, the k-th
 * earliest failure start (when enough members had begun failing for the condition); `first`, the
 * earliest failure start; `lastFail`, the k-th latest latest-failure (enough members failed at
 * or after it).
 */
export interface Onset {
  start: number;
  first: number;
  lastFail: number;
}

export function onsetOf(failing: readonly TargetTracker[], k: number): Onset {
  const starts = failing.map((t) => t.failStart).filter((x): x is number => x !== null).sort((a, b) => a - b);
  const fails = failing.map((t) => t.lastFailAt).filter((x): x is number => x !== null).sort((a, b) => b - a);
  const pick = (xs: number[]): number => (xs.length === 0 ? -Infinity : (xs[Math.min(k, xs.length) - 1] as number));
  return { start: pick(starts), first: starts[0] ?? -Infinity, lastFail: pick(fails) };
}

/**
 * "Answered across the onset": some member had a success whose probe started after the onset,
 * is not down, and was not itself part of the failure (it never recovered from down, or recovered
 * before the group's first failure, or before enough of the group failed again, or from a failure
 * the vantage's own outage explains). A success proves the vantage was online then; "not part of
 * the failure" proves the rest was working while the group failed. This keeps both races from
 * being read as events: targets failing one by one at the onset, and the last targets of a larger
 * outage still down while the others are back.
 */
export function answeredAcross(
  members: readonly TargetTracker[],
  onset: Onset,
  excused: Excused,
  skip?: (t: TargetTracker) => boolean,
): boolean {
  for (const t of members) if (!(skip?.(t) ?? false) && answers(t, onset, excused)) return true;
  return false;
}

/**
 * Like answeredAcross over several lists, but asks two witnesses where two could answer: one
 * target that stays up whatever happens (a site served from a CDN abroad) must not by itself
 * make a country-wide cut look like the outage of one ASN or the blocking of one category.
 */
export function witnessed(
  lists: Iterable<readonly TargetTracker[]>,
  onset: Onset,
  excused: Excused,
  skip?: (t: TargetTracker) => boolean,
): boolean {
  let candidates = 0;
  let answered = 0;
  for (const members of lists) {
    for (const t of members) {
      if (skip?.(t) ?? false) continue;
      candidates++;
      if (answers(t, onset, excused) && ++answered >= 2) return true;
    }
  }
  return answered > 0 && answered >= Math.min(2, candidates);
}

function answers(t: TargetTracker, onset: Onset, excused: Excused): boolean {
  if (t.lastOkAt === null || t.lastOkAt <= onset.start || t.state === 'down') return false;
  const r = t.recoveredAt;
  return r === null || r <= onset.first || r < onset.lastFail || excused(t.recoveredFrom);
}

/** The down ratio condition of a group: enough eligible members, enough of them down. */
export function mostlyDown(g: Group, ratio: number, min: number): boolean {
  return g.eligible >= min && atLeast(g.down.length, g.eligible, ratio);
}

/** The mechanism named by the latest failure reasons of the given (down) targets. */
export function mechanismOfTargets(ts: readonly TargetTracker[]): Mechanism | null {
  return dominantOf(ts.map((t) => mechanismOfFailure(t.lastReason ?? 'unknown', t.lastDetail)));
}

/**
 * An interference signature: DNS tampering, resets, TLS interference, blockpages or HTTP status.
 * A dark network does not answer that way; timeouts and unreachables (`blackhole`) are what both
 * an outage and blackhole blocking look like.
 */
export function isInterference(m: Mechanism | null): boolean {
  return m !== null && m !== 'blackhole';
}

/**
 * Categories of the `down` targets that are failing elsewhere too, and only as a category: among
 * the category's members in the pool that `inside` rejects, at least one and at least
 * partial_ratio of them down, while in the countries where they fail the other categories are
 * not mostly down. Such failures are about the category (a blocking on the vantage's side), not
 * about the place; two countries dark at once fail every category and are not excluded.
 */
export function categoriesFailingOutside(ctx: RuleContext, down: readonly TargetTracker[], inside: (t: TargetTracker) => boolean): Set<string> {
  const { s, pool, index } = ctx;
  const out = new Set<string>();
  const seen = new Set<string>();
  for (const t of down) {
    const k = t.target.category;
    if (seen.has(k)) continue;
    seen.add(k);
    let eligible = 0;
    let failing = 0;
    const where = new Set<string>();
    for (const m of pool.get(k)?.members ?? []) {
      if (inside(m)) continue;
      eligible++;
      if (m.state === 'down') {
        failing++;
        where.add(m.target.country);
      }
    }
    if (eligible === 0 || !atLeast(failing, eligible, s.partial_ratio)) continue;
    let others = 0;
    let othersDown = 0;
    for (const c of where) {
      for (const m of index.countries.get(c)?.members ?? []) {
        if (m.target.category === k) continue;
        others++;
        if (m.state === 'down') othersDown++;
      }
    }
    if (others === 0 || !atLeast(othersDown, others, s.partial_ratio)) out.add(k);
  }
  return out;
}

/** `g` without the members whose category is in `cats` (same counting rules). */
export function withoutCategories(g: Group, cats: ReadonlySet<string> | undefined, s: DetectionSettings): Group {
  return cats === undefined || cats.size === 0 ? g : g.filtered((t) => !cats.has(t.target.category), s.degradation_latency_ratio);
}

/**
 * A place (a country, or one ASN of it) whose failures are about the place: `whole`, without the
 * categories failing the same way outside its country (and those in `alsoLeftOut`, such as the
 * categories already blocked), still at least `ratio` down (at least `min` eligible); and, for a foreign place seen from a home
 * country, failing without an interference signature (that is blocking at home) and not as one
 * category with nothing to compare it with (`inside` tells the place's members). The group judged
 * and its mechanism, or null.
 */
export function failingPlace(
  ctx: RuleContext,
  whole: Group,
  country: string,
  inside: (t: TargetTracker) => boolean,
  ratio: number,
  min: number,
  alsoLeftOut: readonly (Iterable<string> | undefined)[] = [],
): { group: Group; mechanism: Mechanism | null } | null {
  const left = categoriesFailingOutside(ctx, whole.down, (t) => t.target.country === country);
  for (const ks of alsoLeftOut) for (const k of ks ?? []) left.add(k);
  const g = withoutCategories(whole, left, ctx.s);
  if (!mostlyDown(g, ratio, min)) return null;
  const mechanism = mechanismOfTargets(g.down);
  const foreign = ctx.home !== undefined && country !== ctx.home;
  if (foreign && (isInterference(mechanism) || !aboutThePlace(ctx, g.down, inside))) return null;
  return { group: g, mechanism };
}

/** The pool for RuleContext.pool. */
export function categoryPool(index: GroupIndex, home: string | undefined): ReadonlyMap<string, Group> {
  if (home !== undefined) return index.categoriesInternational;
  const m = new Map<string, Group>();
  for (const [k, g] of index.categories) m.set(k, g.group);
  return m;
}

/**
 * Evidence that failures are about a place (a country or an ASN) rather than a category: the
 * down targets span two or more categories, or their category has members outside the place
 * (members that `inside` rejects, in the pool) that still count. Failures of one category with
 * nothing to compare it with could be either; seen from a vantage with a home country they are
 * left to the blocking rule.
 */
export function aboutThePlace(ctx: RuleContext, down: readonly TargetTracker[], inside: (t: TargetTracker) => boolean): boolean {
  const categories = new Set(down.map((t) => t.target.category));
  if (categories.size >= 2) return true;
  for (const k of categories) for (const m of ctx.pool.get(k)?.members ?? []) if (!inside(m)) return true;
  return false;
}
