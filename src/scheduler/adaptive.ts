/**
 * Adaptive probing of a failing group (issue 26): which targets to probe at once, outside their
 * slots, because a group's evidence just turned uncertain. Pure and clock-injected: the daemon's
 * scheduler and the benchmarks' scheduler model both drive this one class.
 *
 * Groups are the ones the detector decides on, per path: a country's targets, an ASN's within
 * its country, a category's within its country, and the controls. Inside-out (a vantage with a
 * home country) the controls and the home country's targets also settle every foreign failure:
 * they say whether the vantage or its gateway is cut.
 *
 * - A target whose result turns from ok to failed is *suspect*: one member of its
 *   first group (a scout) is probed at once.
 * - A group *escalates* when a second sign arrives: a scout (or any extra probe) failing, or the
 *   suspect's own confirm re-probe failing. Then a sample of its members that still look fine is
 *   probed at once (cause `group_failing`). Two unrelated members losing a probe each within a
 *   minute is no sign: in a group of hundreds that happens every minute.
 * - A target that answers after two or more failures in a row *recovers*: a sample of the members
 *   of its groups that still look failed is probed at once (cause `group_recovering`), and each
 *   of those that answers again until it has `up_after` successes in a row, so the group is
 *   settled up rather than waiting a slot for each member's second success.
 *
 * Sample size: the detector needs `ratio` (shutdown, partial or vantage-offline) of a group's
 * eligible members down and at least `min_targets`; the sample is ceil(ratio x n) + 1 members
 * (one spare for a dead or lost one), at least min_targets, at most n - 1 and at most the
 * group's budget left for the interval (`group_budget`). A country of thousands gets
 * `group_budget` probes, not thousands: the slots bring the rest. Globally, at most
 * `max_per_second` extra probes start in any wall-clock second; the rest wait in FIFO order.
 * A group escalates at most once per interval in each direction.
 */
import { targetPath, type Config, type ResolvedTarget } from '../config/schema.js';
import { FifoQueue } from './queue.js';

/** `schedule.adaptive` in the config. */
export interface AdaptiveSettings {
  enabled: boolean;
  /** Extra probes started per wall-clock second, at most. */
  max_per_second: number;
  /** Extra probes one group may cause per interval. */
  group_budget: number;
}

/** The detector thresholds that size a sample (`detection:` in the config). */
export interface QuorumSettings {
  shutdown_ratio: number;
  shutdown_min_targets: number;
  partial_ratio: number;
  vantage_offline_ratio: number;
  /** Successes in a row before a down target is up again. */
  up_after: number;
}

/** Why an extra probe ran: the label values of lookout_adaptive_probes_total. */
export const ADAPTIVE_CAUSES = ['scout', 'group_failing', 'group_recovering'] as const;
export type AdaptiveCause = (typeof ADAPTIVE_CAUSES)[number];

/** What the policy needs to know of one result. */
export interface AdaptiveResult {
  target: string;
  ok: boolean;
  at: number;
}

export interface ExtraProbe {
  id: string;
  cause: AdaptiveCause;
}

interface Pending extends ExtraProbe {
  cancelled: boolean;
}

interface GroupState {
  ratio: number;
  members: number[];
  /** Round-robin start of the next sample, so repeated samples spread over the members. */
  cursor: number;
  budgetWindow: number;
  budgetUsed: number;
  failingAt: number;
  recoveringAt: number;
}

interface MemberState {
  id: string;
  groups: number[];
  /** Latest result failed; null before any result. */
  bad: boolean | null;
  streak: number;
  /** The cause of the extra probe of this member asked for and not yet answered; null: none. */
  extra: AdaptiveCause | null;
  /** Successes in a row. */
  okStreak: number;
}

interface GroupKey {
  key: string;
  ratio: number;
  /** false: the group settles this target's failures, but the target is not one of its members. */
  member: boolean;
}

/** The groups of one target: keys into the index built once per config (a table, not a per-result search). */
function groupKeys(t: ResolvedTarget, home: string | undefined, q: QuorumSettings): GroupKey[] {
  const p = targetPath(t);
  const controls = (member: boolean): GroupKey => ({ key: `controls|${p}`, ratio: q.vantage_offline_ratio, member });
  const country = (c: string, member: boolean): GroupKey => ({ key: `country|${p}|${c}`, ratio: q.shutdown_ratio, member });
  if (t.control) return home === undefined ? [controls(true)] : [controls(true), country(home, false)];
  const keys = [country(t.country, true)];
  if (t.asn !== undefined) keys.push({ key: `asn|${p}|${t.country}|${t.asn}`, ratio: q.partial_ratio, member: true });
  keys.push({ key: `category|${p}|${t.country}|${t.category}`, ratio: q.shutdown_ratio, member: true });
  if (home !== undefined) {
    keys.push(controls(false));
    if (t.country !== home) keys.push(country(home, false));
  }
  return keys;
}

export class AdaptivePolicy {
  private readonly members: MemberState[] = [];
  private readonly byId = new Map<string, number>();
  private readonly groups: GroupState[] = [];
  private readonly pending = new FifoQueue<Pending>();
  private readonly queued = new Set<string>();
  private second = -1;
  private startedThisSecond = 0;

  constructor(
    targets: readonly ResolvedTarget[],
    private readonly settings: AdaptiveSettings,
    private readonly quorum: QuorumSettings,
    private readonly interval: number,
    home?: string,
  ) {
    const groupIndex = new Map<string, number>();
    for (const t of targets) {
      const m: MemberState = { id: t.id, groups: [], bad: null, streak: 0, extra: null, okStreak: 0 };
      const mi = this.members.length;
      this.members.push(m);
      this.byId.set(t.id, mi);
      for (const { key, ratio, member } of groupKeys(t, home, quorum)) {
        let gi = groupIndex.get(key);
        if (gi === undefined) {
          gi = this.groups.length;
          groupIndex.set(key, gi);
          this.groups.push({ ratio, members: [], cursor: 0, budgetWindow: -1, budgetUsed: 0, failingAt: -Infinity, recoveringAt: -Infinity });
        }
        if (member) (this.groups[gi] as GroupState).members.push(mi);
        m.groups.push(gi);
      }
    }
  }

  /** Extra probes waiting for the per-second cap. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Feeds one result (regular, confirm or extra); may queue extra probes. */
  observe(r: AdaptiveResult, confirm: boolean): void {
    if (!this.settings.enabled) return;
    const mi = this.byId.get(r.target);
    if (mi === undefined) return;
    const m = this.members[mi] as MemberState;
    const bad = !r.ok;
    const was = m.bad;
    const streak = m.streak;
    const extra = m.extra;
    m.bad = bad;
    m.streak = bad ? streak + 1 : 0;
    m.okStreak = bad ? 0 : m.okStreak + 1;
    m.extra = null;
    if (bad && extra !== null) this.secondSign(m.groups, r.at);
    else if (!bad && extra === 'group_recovering' && m.okStreak < this.quorum.up_after) this.again(mi, r.at);
    else if (bad && was === false) this.turnedBad(mi, m, r.at);
    else if (bad && confirm && streak === 1) this.secondSign(m.groups, r.at);
    else if (!bad && was === true && streak >= 2) this.recovered(m, r.at);
  }

  /**
   * The extra probes to start now: at most what the per-second cap leaves, oldest first.
   * `skip(id)` true drops a target that is already queued or running (fresh evidence is coming).
   */
  take(now: number, skip: (id: string) => boolean): ExtraProbe[] {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.startedThisSecond = 0;
    }
    const out: ExtraProbe[] = [];
    while (this.startedThisSecond < this.settings.max_per_second) {
      const next = this.pending.shift();
      if (!next) break;
      this.queued.delete(next.id);
      if (skip(next.id)) continue;
      out.push({ id: next.id, cause: next.cause });
      this.startedThisSecond++;
    }
    return out;
  }

  /** A lone failure: one scout from the first group says whether it is the target or the group. */
  private turnedBad(mi: number, m: MemberState, at: number): void {
    const first = m.groups[0];
    if (first !== undefined) this.sample(this.groups[first] as GroupState, 1, at, 'scout', (x) => x !== mi && this.members[x]?.bad !== true);
  }

  /** One more recovery probe of a member that answered but is not yet up again. */
  private again(mi: number, at: number): void {
    const first = (this.members[mi] as MemberState).groups[0];
    if (first !== undefined) this.sample(this.groups[first] as GroupState, 1, at, 'group_recovering', (x) => x === mi);
  }

  private secondSign(groups: readonly number[], at: number): void {
    for (const gi of groups) this.escalate(this.groups[gi] as GroupState, at);
  }

  private recovered(m: MemberState, at: number): void {
    for (const gi of m.groups) {
      const g = this.groups[gi] as GroupState;
      if (at - g.recoveringAt < this.interval) continue;
      g.recoveringAt = at;
      this.sample(g, this.sampleSize(g), at, 'group_recovering', (x) => this.members[x]?.bad === true);
    }
  }

  /** Probes a quorum-sized sample of the group's fine-looking members; false if it did already this interval. */
  private escalate(g: GroupState, at: number): boolean {
    if (at - g.failingAt < this.interval) return false;
    g.failingAt = at;
    this.sample(g, this.sampleSize(g), at, 'group_failing', (x) => this.members[x]?.bad !== true);
    return true;
  }

  private sampleSize(g: GroupState): number {
    const n = g.members.length;
    const wanted = Math.max(this.quorum.shutdown_min_targets, Math.ceil(g.ratio * n) + 1);
    return Math.min(wanted, n - 1);
  }

  private sample(g: GroupState, size: number, at: number, cause: AdaptiveCause, eligible: (mi: number) => boolean): void {
    const window = Math.floor(at / this.interval);
    if (window !== g.budgetWindow) {
      g.budgetWindow = window;
      g.budgetUsed = 0;
    }
    let want = Math.min(size, this.settings.group_budget - g.budgetUsed);
    const n = g.members.length;
    const start = g.cursor;
    for (let i = 0; i < n && want > 0; i++) {
      const mi = g.members[(start + i) % n] as number;
      if (!eligible(mi)) continue;
      const member = this.members[mi] as MemberState;
      const id = member.id;
      if (this.queued.has(id)) continue;
      member.extra = cause;
      this.queued.add(id);
      this.pending.push({ id, cause, cancelled: false });
      g.budgetUsed++;
      want--;
      g.cursor = (start + i + 1) % n;
    }
  }
}

/** The policy for a config (null when `schedule.adaptive.enabled` is false): build it again on every reload. */
export function adaptivePolicyFor(config: Pick<Config, 'schedule' | 'detection' | 'vantage' | 'targets'>): AdaptivePolicy | null {
  const { schedule } = config;
  if (!schedule.adaptive.enabled) return null;
  return new AdaptivePolicy(config.targets, schedule.adaptive, config.detection, schedule.interval, config.vantage.country);
}
