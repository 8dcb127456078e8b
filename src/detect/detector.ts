/**
 * The detection engine (docs/design.md "Events", "Two perspectives", "Detection defaults"): pure and
 * clock-injected. Time comes only from the results (observation time = at + total) and from
 * evaluate(now); the same input stream gives the same events, ids included.
 *
 * Hysteresis: an event opens after its condition held for open_after consecutive evaluations
 * and closes after it was clear for close_after. While open, "clear" means its core no longer
 * holds (KindRules.core in kinds.ts: its own targets recovered), not that the context needed to
 * open it went away. While the vantage is offline (or its controls are failing and about to be
 * confirmed down) every event but the vantage's own (KindRules.blinds) is frozen: no new one
 * opens, open ones neither progress nor close, because we cannot see. Likewise, while a country
 * is in shutdown (KindRules.darkens), its events of the kinds that wait (KindRules.waitsWhileDark)
 * are frozen.
 *
 * started_at: see onsetTime() in event-times.ts — the probe that began the failure, not the evaluation.
 * ended_at: at the first clear evaluation, the recovery time (first success) of the member whose
 * recovery made the condition false; when that cannot be derived (degradation, the group
 * vanished, eligibility changed) the time of that first clear evaluation.
 *
 * Eligibility: a target counts when it was seen up within baseline_window. Targets that were
 * down in an open event stay eligible while the event is open (a week-long shutdown does not
 * close itself by making its own targets "dead").
 */
import type { ResolvedTarget } from '../config/schema.js';
import type { FailureReason } from '../probers/reasons.js';
import type { ProbeResult } from '../probers/types.js';
import { baselineTau } from './baseline.js';
import { BlindPeriods } from './blind.js';
import { blockEvidence, BlockFalls, levelOf, type BlockView } from './block-view.js';
import { classify, conditionKey, type Condition, type Verdict } from './classify.js';
import { buildEvidence, eventId } from './event-text.js';
import { onsetTime, recoveryTime } from './event-times.js';
import { EVENT_KINDS, type DisruptionEvent, type EventKind, type Evidence } from './events.js';
import { countsForVerdicts } from './geo-eligibility.js';
import { GroupIndex, type Group } from './groups.js';
import { KINDS, type CountryState, type EventScope } from './kinds.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_RESUME_GRACE_MS, type DetectionSettings, type DetectorOptions, type VantageInfo } from './options.js';
import { median } from './stats.js';
import { TargetTracker } from './target-state.js';

export type { DetectionSettings, DetectorOptions, VantageInfo } from './options.js';
export type { CountryState } from './kinds.js';

export type EventChange = { type: 'opened' | 'closed'; event: DisruptionEvent };

/** See Detector.vantageState(). */
export interface VantageState {
  online: boolean | null;
  controls: number;
  failing: number;
  reasons: Partial<Record<FailureReason, number>>;
}

export type TargetDisplayState = 'unknown' | 'up' | 'suspect' | 'down' | 'dead';

export interface CountryStatus {
  country: string;
  state: CountryState;
  eligible: number;
  up: number;
  down: number;
  dead: number;
  /** Reachable share of the eligible targets; null when none is eligible. */
  ratio: number | null;
  /** Median latency ratio of the up targets with a baseline; null when none. */
  latency_ratio: number | null;
}

export interface TargetStatus {
  id: string;
  country: string;
  asn: number | null;
  category: string;
  control: boolean;
  state: TargetDisplayState;
  latency_ratio: number | null;
}

/** As of the last evaluate() call. */
export interface DetectorStatus {
  vantage: { id: string; country: string | null; online: boolean | null };
  countries: CountryStatus[];
  targets: TargetStatus[];
}

interface Slot {
  key: string;
  kind: EventKind;
  country: string | null;
  asn: number | null;
  category: string | null;
  /** Consecutive evaluations the condition held (while no event is open: toward open_after). */
  hold: number;
  /** Consecutive evaluations the condition was clear while the event is open. */
  clear: number;
  event: DisruptionEvent | null;
  startedMs: number;
  /** Ids of the targets that contributed while the condition held. */
  members: Set<string>;
  /** ended_at candidate, fixed at the first clear evaluation. */
  endAt: number | null;
  /** Set for an event taken over from a previous run by resume(). */
  resume: { restartAt: number | null; checksLeft: number } | null;
}

const KIND_ORDER = new Map<EventKind, number>(EVENT_KINDS.map((k, i) => [k, i]));
const cmp = <T extends string | number>(a: T | null, b: T | null): number =>
  a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;

/** Deterministic change order: closes before opens, then kind, country, asn, category. */
export function compareChanges(a: EventChange, b: EventChange): number {
  if (a.type !== b.type) return a.type === 'closed' ? -1 : 1;
  return compareEvents(a.event, b.event);
}

function compareEvents(a: DisruptionEvent, b: DisruptionEvent): number {
  return (
    (KIND_ORDER.get(a.kind) ?? 0) - (KIND_ORDER.get(b.kind) ?? 0) ||
    cmp(a.country, b.country) ||
    cmp(a.asn, b.asn) ||
    cmp(a.category, b.category)
  );
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class Detector {
  private s: DetectionSettings;
  private vantage: VantageInfo;
  private trackers: TargetTracker[] = [];
  private byId = new Map<string, TargetTracker>();
  private index!: GroupIndex;
  private readonly slots = new Map<string, Slot>();
  /** Last ended_at per condition key, so a recurring event never reuses an id. */
  private readonly lastEnded = new Map<string, number>();
  private readonly blind = new BlindPeriods();
  /**
   * Members of an outage or blocking event that closed, by id, with the close time. Each needs
   * up_after successes after it ends, so the stragglers stay "down" for up to two intervals and
   * would look like a smaller event of whatever they have in common (a partial outage or a
   * blocking in one country); a member whose failure streak began before the close does not
   * count until it recovers.
   */
  private readonly aftermath = new Map<string, number>();
  private readonly resumeGraceMs: number;
  /** See DetectorOptions.path; "" for the default route. */
  readonly path: string;
  private interval: number;
  private lastEval: number | null = null;
  private lastVerdict: Verdict | null = null;
  private pinned = new Set<string>();
  /** Block probing's signals, as last given (observeBlocks); null without block probing. */
  private blocks: BlockView | null = null;
  private readonly falls = new BlockFalls();

  constructor(opts: DetectorOptions) {
    this.s = opts.detection;
    this.vantage = opts.vantage;
    this.resumeGraceMs = opts.resumeGraceMs ?? DEFAULT_RESUME_GRACE_MS;
    this.path = opts.path ?? '';
    this.interval = opts.interval ?? DEFAULT_INTERVAL_MS;
    this.setTargets(opts.targets);
  }

  /** O(1) per result: updates the target's state machine and latency baseline. Unknown targets are ignored. */
  observe(result: ProbeResult): void {
    const t = this.byId.get(result.target);
    if (!t) return;
    t.observe(result, result.at + (result.phases.total ?? 0) * 1000, this.s);
  }

  /**
   * Block probing's signals for the next evaluations (docs/detection.md "Block evidence"); null
   * without block probing. Until the view is `judged`, events resumed after a restart wait, as
   * they wait for targets to settle.
   */
  observeBlocks(view: BlockView | null): void {
    this.blocks = view;
  }

  /**
   * One evaluation at `now` (ms): aggregates groups, applies hysteresis, returns the events
   * opened or closed, in compareChanges order. O(targets) plus the size of holding groups.
   */
  evaluate(now: number): EventChange[] {
    this.lastEval = now;
    const unsettled = this.aggregate(now) + (this.blocks !== null && !this.blocks.judged ? 1 : 0);
    this.falls.update(this.blocks, now);
    const ctx = {
      excused: (failStart: number | null) => this.blind.covers(failStart),
      blocked: this.blockedCategories(),
      blocks: this.blocks,
      fallSince: (key: string) => this.falls.of(key),
      now,
    };
    const verdict = classify(this.index, this.s, this.vantage, ctx);
    this.lastVerdict = verdict;
    this.followBlindness(verdict.vantage, now);
    const changes = this.applyHysteresis(verdict, unsettled, now);
    this.pinned = new Set();
    for (const slot of this.slots.values()) if (slot.event) for (const id of slot.members) this.pinned.add(id);
    return changes.sort(compareChanges);
  }

  /** Refills the groups with the targets that count at `now`; returns how many have no settled state yet. */
  private aggregate(now: number): number {
    const slowRatio = this.s.degradation_latency_ratio;
    this.index.reset();
    let unsettled = 0;
    for (let i = 0; i < this.trackers.length; i++) {
      const t = this.trackers[i] as TargetTracker;
      if (t.state === 'unknown') unsettled++;
      if (!this.isEligible(t, now)) continue;
      if (!t.target.control && this.blind.covers(t.failStart)) continue;
      const closedAt = this.aftermath.get(t.id);
      if (closedAt !== undefined) {
        if (t.failStart !== null && t.failStart <= closedAt) continue;
        this.aftermath.delete(t.id);
      }
      // A target located outside its declared country is no evidence about that place; it still
      // counts where the place does not matter (its category, the international targets).
      const placeless = t.geoMismatch && !countsForVerdicts(t.target, true, this.vantage.country);
      for (const g of this.index.membership[i] as Group[]) if (!(placeless && g.place)) g.add(t, slowRatio);
    }
    return unsettled;
  }

  /** The categories of the open events that block one, by the event's country ('' for null). */
  private blockedCategories(): Map<string, Set<string>> {
    const blocked = new Map<string, Set<string>>();
    for (const slot of this.slots.values()) {
      if (!KINDS[slot.kind].blocksCategory || !slot.event || slot.category === null) continue;
      const scope = slot.country ?? '';
      const set = blocked.get(scope) ?? new Set<string>();
      set.add(slot.category);
      blocked.set(scope, set);
    }
    return blocked;
  }

  /** Begins, cancels or ends the blind period the vantage verdict says the vantage is in. */
  private followBlindness(v: Verdict['vantage'], now: number): void {
    if (v.offline && v.blindStart !== null) this.blind.begin(v.blindStart);
    else if (v.vetoed && !this.blindingEventOpen()) this.blind.cancel();
    // A veto once the vantage_offline event is open is the way back: domestic targets answer
    // before the controls are counted up again. The period ends; it was real.
    else if (!v.frozen) this.blind.finish(now);
    this.blind.prune(now - this.s.baseline_window);
  }

  /** Steps every slot (opened, held, cleared or closed) with the conditions that hold now. */
  private applyHysteresis(verdict: Verdict, unsettled: number, now: number): EventChange[] {
    const v = verdict.vantage;
    const changes: EventChange[] = [];
    const holding = new Map<string, Condition>();
    for (const c of verdict.conditions) holding.set(c.key, c);
    // A country is dark while its shutdown condition holds and also while a shutdown event is
    // still open (closing takes close_after evaluations): its other events wait meanwhile, or
    // the last targets to recover would be named a partial outage or a blocking.
    const dark = new Set(verdict.inShutdown);
    for (const slot of this.slots.values()) if (KINDS[slot.kind].darkens && slot.event && slot.country !== null) dark.add(slot.country);
    const darkened = (kind: EventKind, country: string | null): boolean => KINDS[kind].waitsWhileDark && country !== null && dark.has(country);
    for (const slot of [...this.slots.values()]) {
      const cond = holding.get(slot.key);
      holding.delete(slot.key);
      const frozen = (v.frozen && !KINDS[slot.kind].blinds) || darkened(slot.kind, slot.country);
      if (slot.resume) this.stepResumed(slot, cond, frozen, unsettled, now, changes);
      else if (!frozen) this.step(slot, cond, now, changes);
    }
    for (const cond of holding.values()) {
      if (darkened(cond.kind, cond.country)) continue;
      const slot: Slot = {
        key: cond.key,
        kind: cond.kind,
        country: cond.country,
        asn: cond.asn,
        category: cond.category,
        hold: 0,
        clear: 0,
        event: null,
        startedMs: now,
        members: new Set(),
        endAt: null,
        resume: null,
      };
      this.slots.set(slot.key, slot);
      this.step(slot, cond, now, changes);
    }
    return changes;
  }

  /**
   * The location check's verdict for a target (see geo-eligibility.ts): a mismatched target
   * stops counting toward its groups from the next evaluation. Unknown ids are ignored.
   */
  setGeoMismatch(id: string, mismatch: boolean): void {
    const t = this.byId.get(id);
    if (t) t.geoMismatch = mismatch;
  }

  /** The configured target with this id (for the status' location view). */
  target(id: string): ResolvedTarget | undefined {
    return this.byId.get(id)?.target;
  }

  private blindingEventOpen(): boolean {
    for (const slot of this.slots.values()) if (KINDS[slot.kind].blinds && slot.event) return true;
    return false;
  }

  /** Reload: new targets and thresholds (and vantage); keeps the state of targets that remain. */
  update(targets: readonly ResolvedTarget[], detection: DetectionSettings, vantage?: VantageInfo, interval?: number): void {
    this.s = detection;
    if (vantage) this.vantage = vantage;
    if (interval !== undefined) this.interval = interval;
    this.setTargets(targets);
  }

  /**
   * After a restart: the events still open in the store. Each stays open (same id, same
   * started_at) while pending; once every target has reported a settled state (or resumeGraceMs
   * after the first evaluation) it resumes if its condition or, as for any open event, its core
   * (KindRules.core) holds within close_after evaluations, else it closes with ended_at = the
   * first evaluation after the restart.
   * The targets listed in its evidence were up before it started: they count as last seen up
   * at started_at and stay eligible while the event is open. Events whose key already has an
   * open event, and closed events, are ignored.
   */
  resume(open: readonly DisruptionEvent[]): void {
    for (const e of open) {
      if (e.ended_at !== null) continue;
      const key = conditionKey(e.kind, e.country, e.asn, e.category);
      if (this.slots.get(key)?.event) continue;
      const startedMs = Date.parse(e.started_at);
      const ids = e.evidence.targets ?? [];
      for (const id of ids) {
        const t = this.byId.get(id);
        if (t && t.lastUpAt === null) t.lastUpAt = startedMs;
      }
      this.slots.set(key, {
        key,
        kind: e.kind,
        country: e.country,
        asn: e.asn,
        category: e.category,
        hold: this.s.open_after,
        clear: 0,
        event: structuredClone(e),
        startedMs,
        members: new Set(ids),
        endAt: null,
        resume: { restartAt: null, checksLeft: this.s.close_after },
      });
      for (const id of ids) this.pinned.add(id);
    }
  }

  /** The open events (latest evidence), in compareChanges order; copies. */
  active(): DisruptionEvent[] {
    const out: DisruptionEvent[] = [];
    for (const slot of this.slots.values()) if (slot.event) out.push(structuredClone(slot.event));
    return out.sort(compareEvents);
  }

  /**
   * The vantage verdict of the last evaluate(): online (null while unknown), how many controls
   * were judged and the failure reasons of the failing ones. The same verdict status() and the
   * lookout_vantage_online gauge report.
   */
  vantageState(): VantageState {
    const v = this.lastVerdict?.vantage;
    const reasons: Partial<Record<FailureReason, number>> = {};
    for (const t of v?.failing ?? []) {
      const r = t.lastReason ?? 'unknown';
      reasons[r] = (reasons[r] ?? 0) + 1;
    }
    return { online: v?.online ?? null, controls: v?.controls ?? 0, failing: v?.failing.length ?? 0, reasons };
  }

  /** For GET /api/v1/status and scrape-time metrics; as of the last evaluate(). */
  status(): DetectorStatus {
    const now = this.lastEval ?? Number.NEGATIVE_INFINITY;
    const home = this.vantage.country;
    const open = this.active();
    const countries: CountryStatus[] = [];
    const names = [...this.index.countries.keys()];
    if (home !== undefined && !this.index.countries.has(home)) names.push(home);
    const dead = new Map<string, number>();
    const targets: TargetStatus[] = this.trackers.map((t) => {
      const state = this.displayState(t, now);
      if (state === 'dead' && !t.target.control) dead.set(t.target.country, (dead.get(t.target.country) ?? 0) + 1);
      return {
        id: t.id,
        country: t.target.country,
        asn: t.target.asn ?? null,
        category: t.target.category,
        control: t.target.control,
        state,
        latency_ratio: t.latencyRatio(),
      };
    });
    for (const country of names.sort()) {
      const g = this.index.countries.get(country);
      const eligible = g?.eligible ?? 0;
      const down = g?.down.length ?? 0;
      const kinds = new Set(open.filter((e) => e.country === country).map((e) => e.kind));
      let state: CountryState = 'ok';
      const decisive = EVENT_KINDS.find((k) => kinds.has(k) && KINDS[k].countryState !== null);
      if (decisive !== undefined) state = KINDS[decisive].countryState ?? state;
      else if (eligible === 0 || this.lastVerdict === null || this.lastVerdict.vantage.frozen) state = 'unknown';
      countries.push({
        country,
        state,
        eligible,
        up: g?.up ?? 0,
        down,
        dead: dead.get(country) ?? 0,
        ratio: eligible === 0 ? null : (eligible - down) / eligible,
        latency_ratio: g && g.ratios.length > 0 ? median(g.ratios) : null,
      });
    }
    return {
      vantage: { id: this.vantage.id, country: home ?? null, online: this.lastVerdict?.vantage.online ?? null },
      countries,
      targets,
    };
  }

  private setTargets(targets: readonly ResolvedTarget[]): void {
    const tau = baselineTau(this.s.baseline_window);
    const old = this.byId;
    this.trackers = targets.map((target) => {
      const t = old.get(target.id);
      if (!t) return new TargetTracker(target, tau);
      t.target = target;
      t.baseline.setTau(tau);
      return t;
    });
    this.byId = new Map(this.trackers.map((t) => [t.id, t]));
    this.index = new GroupIndex(this.trackers, this.vantage);
  }

  private isEligible(t: TargetTracker, now: number): boolean {
    if (t.eligible(now, this.s.baseline_window)) return true;
    return t.state !== 'unknown' && t.lastUpAt !== null && this.pinned.has(t.id);
  }

  private displayState(t: TargetTracker, now: number): TargetDisplayState {
    if (t.state === 'unknown' || t.lastUpAt === null) return 'unknown';
    if (!this.isEligible(t, now)) return 'dead';
    return t.state;
  }

  /** Hysteresis for one key at one (not frozen) evaluation. */
  private step(slot: Slot, cond: Condition | undefined, now: number, changes: EventChange[]): void {
    if (cond) {
      slot.hold++;
      slot.clear = 0;
      slot.endAt = null;
      for (const t of cond.contributors) slot.members.add(t.id);
      if (slot.event) this.refresh(slot, cond.group, cond.contributors, cond.latencyRatio);
      else if (slot.hold >= this.s.open_after) changes.push({ type: 'opened', event: this.open(slot, cond, now) });
      return;
    }
    slot.hold = 0;
    if (!slot.event) {
      this.slots.delete(slot.key);
      return;
    }
    const rules = KINDS[slot.kind];
    const group = rules.group(this.index, this.s, slot);
    if ((group && rules.core(group, this.s)) || this.blocksHold(slot)) {
      slot.clear = 0;
      slot.endAt = null;
      this.refresh(slot, group, group ? rules.measure.contributors(group) : [], group ? rules.measure.latencyRatio(group) : undefined);
      return;
    }
    slot.clear++;
    if (slot.clear === 1) {
      slot.endAt = recoveryTime(rules, group, slot.members, slot.startedMs, this.s, now);
      // Recovering: what is still low of its blocks is no new, smaller event (KindRules.blocks.fallKeys).
      for (const key of rules.blocks?.fallKeys(slot) ?? []) this.falls.restart(key);
    }
    // The evidence keeps the counts of the last evaluation at which the condition held, so a
    // closed event still says what happened rather than showing the recovered state.
    if (slot.clear >= this.s.close_after) changes.push({ type: 'closed', event: this.close(slot, slot.endAt ?? now) });
  }

  private stepResumed(
    slot: Slot,
    cond: Condition | undefined,
    frozen: boolean,
    unsettled: number,
    now: number,
    changes: EventChange[],
  ): void {
    const r = slot.resume;
    if (!r) return;
    r.restartAt ??= now;
    if (frozen) return;
    if (unsettled > 0 && now - r.restartAt < this.resumeGraceMs) return;
    // Like any open event, a resumed one is kept by its core (its own targets still down), not
    // by the context needed to open it: adaptive probing settles a failing group within seconds
    // of the restart, before anything outside it has answered again at its slot.
    const rules = KINDS[slot.kind];
    const group = cond ? null : rules.group(this.index, this.s, slot);
    if (cond || (group && rules.core(group, this.s))) {
      slot.resume = null;
      slot.hold = Math.max(slot.hold, this.s.open_after);
      this.step(slot, cond, now, changes);
      return;
    }
    r.checksLeft--;
    if (r.checksLeft <= 0) changes.push({ type: 'closed', event: this.close(slot, r.restartAt) });
  }

  private open(slot: Slot, cond: Condition, now: number): DisruptionEvent {
    let window = this.interval;
    for (const t of cond.contributors) window = Math.max(window, t.target.interval ?? 0);
    const exclude = new Set<string>();
    for (const other of this.slots.values()) {
      if (other.event && other !== slot && other.country === cond.country) for (const id of other.members) exclude.add(id);
    }
    let started = onsetTime(KINDS[cond.kind], cond.group, cond.contributors, this.s, now, window, exclude);
    // Block evidence alone: when the blocks' fall began; with targets too, whichever is earlier.
    if (cond.blockSince !== undefined) started = cond.contributors.length === 0 ? cond.blockSince : Math.min(started, cond.blockSince);
    const last = this.lastEnded.get(slot.key);
    if (last !== undefined && started <= last) started = Math.min(last + 1, now);
    slot.startedMs = started;
    const event: DisruptionEvent = {
      id: eventId(cond.kind, cond.country, cond.asn, cond.category, started) + (this.path === '' ? '' : `@${this.path}`),
      kind: cond.kind,
      country: cond.country,
      asn: cond.asn,
      category: cond.category,
      mechanism: cond.mechanism,
      severity: KINDS[cond.kind].severity,
      started_at: iso(started),
      ended_at: null,
      summary: '',
      evidence: this.evidence(cond.kind, cond, cond.group, cond.contributors, cond.latencyRatio),
    };
    if (this.path !== '') event.path = this.path;
    event.summary = this.summary(event);
    slot.event = event;
    return structuredClone(event);
  }

  private close(slot: Slot, endMs: number): DisruptionEvent {
    const event = slot.event as DisruptionEvent;
    const end = Math.max(endMs, slot.startedMs);
    event.ended_at = iso(end);
    this.lastEnded.set(slot.key, end);
    if (KINDS[slot.kind].aftermath) for (const id of slot.members) this.aftermath.set(id, end);
    for (const key of KINDS[slot.kind].blocks?.fallKeys(slot) ?? []) this.falls.restart(key);
    this.slots.delete(slot.key);
    return structuredClone(event);
  }

  private refresh(slot: Slot, group: Group | null, contributors: readonly TargetTracker[], latencyRatio: number | undefined): void {
    const event = slot.event;
    if (!event) return;
    event.evidence = this.evidence(slot.kind, slot, group, contributors, latencyRatio);
    event.summary = this.summary(event);
  }

  /** The group's evidence, with its blocks (the kind's block group) when block probing is on. */
  private evidence(kind: EventKind, scope: EventScope, group: Group | null, contributors: readonly TargetTracker[], latencyRatio: number | undefined): Evidence {
    const evidence = buildEvidence(group, contributors, latencyRatio);
    const blocks = this.blocks?.judged ? KINDS[kind].blocks?.group(this.blocks, scope) : null;
    if (blocks) evidence.blocks = blockEvidence(blocks);
    return evidence;
  }

  /** An open event's block side still holds (KindRules.blocks.holds on its blocks' level). */
  private blocksHold(slot: Slot): boolean {
    const rules = KINDS[slot.kind].blocks;
    if (rules === null || !this.blocks?.judged) return false;
    const level = levelOf(rules.group(this.blocks, slot) ?? undefined);
    return level !== null && rules.holds(level, slot);
  }

  private summary(event: DisruptionEvent): string {
    const insideOut = event.country !== null && event.country === this.vantage.country;
    const text = KINDS[event.kind].summary(event, this.vantage.id, insideOut);
    return this.path === '' ? text : `${text} (path ${this.path})`;
  }
}
