/**
 * Group aggregation: which groups each target belongs to, and per evaluation the eligible
 * members, down members and latency ratios of every group. Group objects persist across
 * evaluations (reset and refilled each time) so evaluate() allocates little and stays O(targets).
 */
import type { TargetTracker } from './target-state.js';
import type { VantageInfo } from './options.js';

export class Group {
  /**
   * A group about a place (a country, an ASN, a category within one country): a target located
   * outside its declared country is left out of these (see geo-eligibility.ts).
   */
  constructor(readonly place = false) {}

  /** Eligible members at the last evaluation, in config order. */
  readonly members: TargetTracker[] = [];
  /** Eligible members in state down. */
  readonly down: TargetTracker[] = [];
  /** Eligible members that are down or whose latest probe failed. */
  bad = 0;
  /** Eligible members in state up. */
  up = 0;
  /** Latency ratios of the eligible up (or suspect) members that have a baseline. */
  readonly ratios: number[] = [];
  /** Eligible up (or suspect) members whose latency ratio is at or above the degradation threshold. */
  readonly slow: TargetTracker[] = [];

  reset(): void {
    this.members.length = 0;
    this.down.length = 0;
    this.ratios.length = 0;
    this.slow.length = 0;
    this.bad = 0;
    this.up = 0;
  }

  add(t: TargetTracker, slowRatio: number): void {
    this.members.push(t);
    if (t.state === 'down') this.down.push(t);
    if (t.state === 'down' || t.latestOk === false) this.bad++;
    if (t.state === 'up') this.up++;
    const r = t.latencyRatio();
    if (r !== null) {
      this.ratios.push(r);
      if (r >= slowRatio) this.slow.push(t);
    }
  }

  get eligible(): number {
    return this.members.length;
  }

  /** A new group with the members that `keep` accepts (same counting rules). */
  filtered(keep: (t: TargetTracker) => boolean, slowRatio: number): Group {
    const g = new Group(this.place);
    for (const t of this.members) if (keep(t)) g.add(t, slowRatio);
    return g;
  }
}

/** An ASN of a country, for partial_outage. */
export interface AsnGroup {
  country: string;
  asn: number;
  group: Group;
}

/** A category's members in one country, or across all countries (`country` null). */
export interface CategoryGroup {
  country: string | null;
  category: string;
  group: Group;
}

/**
 * The groups for one target list and vantage (every group holds non-control targets only,
 * except `controls`):
 * - controls: every control target;
 * - countries: by target country (the home country's too);
 * - asns: by (country, asn), for targets with an asn;
 * - categories: by category across all countries (`country` null);
 * - categoriesIn: by (country, category);
 * - domestic / international (a vantage with a home country only): targets in / outside it;
 * - categoriesDomestic / categoriesInternational (home only): by category within those.
 * `allControls` lists every control tracker whether eligible or not (start-up verdict).
 */
export class GroupIndex {
  readonly controls = new Group();
  readonly allControls: readonly TargetTracker[];
  readonly countries = new Map<string, Group>();
  readonly asns = new Map<string, AsnGroup>();
  readonly categories = new Map<string, CategoryGroup>();
  readonly categoriesIn = new Map<string, CategoryGroup>();
  readonly domestic: Group | null;
  readonly international: Group | null;
  readonly categoriesDomestic = new Map<string, Group>();
  readonly categoriesInternational = new Map<string, Group>();
  private readonly all: Group[] = [];
  /** Groups of each tracker, parallel to the trackers list given to the constructor. */
  readonly membership: Group[][] = [];

  constructor(
    trackers: readonly TargetTracker[],
    readonly vantage: VantageInfo,
  ) {
    const home = vantage.country;
    this.domestic = home === undefined ? null : new Group();
    this.international = home === undefined ? null : new Group();
    this.all.push(this.controls);
    if (this.domestic) this.all.push(this.domestic);
    if (this.international) this.all.push(this.international);
    this.allControls = trackers.filter((t) => t.target.control);
    for (const tr of trackers) {
      const t = tr.target;
      const groups: Group[] = [];
      if (t.control) {
        groups.push(this.controls);
      } else {
        groups.push(this.keyed(this.countries, t.country, () => new Group(true)));
        if (t.asn !== undefined) {
          const asn = t.asn;
          groups.push(this.keyed(this.asns, `${t.country}|${asn}`, () => ({ country: t.country, asn, group: new Group(true) })).group);
        }
        groups.push(this.keyed(this.categories, t.category, () => ({ country: null, category: t.category, group: new Group() })).group);
        groups.push(
          this.keyed(this.categoriesIn, `${t.country}|${t.category}`, () => ({ country: t.country, category: t.category, group: new Group(true) }))
            .group,
        );
        if (home !== undefined) {
          const domestic = t.country === home;
          groups.push((domestic ? this.domestic : this.international) as Group);
          groups.push(this.keyed(domestic ? this.categoriesDomestic : this.categoriesInternational, t.category, () => new Group()));
        }
      }
      this.membership.push(groups);
    }
  }

  reset(): void {
    for (const g of this.all) g.reset();
  }

  /** The group stored under `key`, made (and registered for reset) on first use. */
  private keyed<V extends Group | { group: Group }>(map: Map<string, V>, key: string, make: () => V): V {
    let v = map.get(key);
    if (!v) {
      v = make();
      map.set(key, v);
      this.all.push(v instanceof Group ? v : v.group);
    }
    return v;
  }
}
