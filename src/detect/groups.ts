/**
 * Group aggregation: which groups each target belongs to, and per evaluation the eligible
 * members, down members and latency ratios of every group. Group objects persist across
 * evaluations (reset and refilled each time) so evaluate() allocates little and stays O(targets).
 */
import type { TargetTracker } from './target-state.js';
import type { VantageInfo } from './options.js';

export class Group {
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
    const g = new Group();
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

/** A category within a blocking scope (a country), for service_blocking. */
export interface CategoryGroup {
  scope: string;
  category: string;
  group: Group;
}

/**
 * The groups for one target list and vantage:
 * - controls: every control target (never in any other group);
 * - countries: non-control targets by country;
 * - asns: non-control targets by (country, asn), for targets with an asn;
 * - categories: non-control targets by (scope, category), scope = vantage country when set
 *   (inside-out: domestic and international together), else the target's country;
 * - domestic / international (inside-out only): non-control targets in / outside the vantage country.
 */
export class GroupIndex {
  readonly controls = new Group();
  readonly countries = new Map<string, Group>();
  readonly asns = new Map<string, AsnGroup>();
  readonly categories = new Map<string, CategoryGroup>();
  readonly domestic: Group | null;
  readonly international: Group | null;
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
    for (const tr of trackers) {
      const t = tr.target;
      const groups: Group[] = [];
      if (t.control) {
        groups.push(this.controls);
      } else {
        groups.push(this.country(t.country));
        if (t.asn !== undefined) groups.push(this.asn(t.country, t.asn));
        groups.push(this.category(home ?? t.country, t.category));
        if (home !== undefined) groups.push((t.country === home ? this.domestic : this.international) as Group);
      }
      this.membership.push(groups);
    }
  }

  reset(): void {
    for (const g of this.all) g.reset();
  }

  private country(country: string): Group {
    let g = this.countries.get(country);
    if (!g) {
      g = new Group();
      this.countries.set(country, g);
      this.all.push(g);
    }
    return g;
  }

  private asn(country: string, asn: number): Group {
    const key = `${country}|${asn}`;
    let g = this.asns.get(key);
    if (!g) {
      g = { country, asn, group: new Group() };
      this.asns.set(key, g);
      this.all.push(g.group);
    }
    return g.group;
  }

  private category(scope: string, category: string): Group {
    const key = `${scope}|${category}`;
    let g = this.categories.get(key);
    if (!g) {
      g = { scope, category, group: new Group() };
      this.categories.set(key, g);
      this.all.push(g.group);
    }
    return g.group;
  }
}
