/**
 * Everything that differs per event kind, in one table (docs/design.md "A new event kind"): the
 * rules that open it, its severity, what its contributors are, the group and the core an open
 * event is judged on (what keeps it open), how its onset and recovery are timed, what it freezes
 * and what freezes it, the country state it gives, and its summary sentence. The compiler checks
 * that every EventKind has an entry. Pure data and small pure functions, made once: reading them
 * adds no allocation to an evaluation.
 */
import { asnKey, BLOCK_LEVELS, countryKey, levelOf, sumGroups, type BlockGroup, type BlockView } from './block-view.js';
import { how, latency, unreachable, unreachableOrBlocks, where, type Summarized } from './event-text.js';
import type { EventKind, Severity } from './events.js';
import type { Group, GroupIndex } from './groups.js';
import type { DetectionSettings } from './options.js';
import { blockingGroup } from './rules/blocking.js';
import { mostlyDown } from './rules/common.js';
import { median, needed } from './stats.js';
import type { TargetTracker } from './target-state.js';

/** A country's state in the status: its open event of the earliest kind in EVENT_KINDS decides. */
export type CountryState = 'ok' | 'shutdown' | 'partial' | 'blocking' | 'degraded' | 'unknown';

/** An event's identity within one detector (the fields of its condition key but the kind). */
export interface EventScope {
  country: string | null;
  asn: number | null;
  category: string | null;
}

/** What a kind's contributors are, and when each began contributing. */
export interface Measure {
  /** Its contributors among a group's members: the down ones, or the slow ones. */
  contributors(g: Group): TargetTracker[];
  /** When a contributor began to be one (its failure streak, its slowness); null: unknown. */
  since(t: TargetTracker): number | null;
  /** The median latency ratio its evidence carries; undefined for a down ratio kind. */
  latencyRatio(g: Group): number | undefined;
}

export interface KindRules {
  /** The rule files (under src/detect/rules/) whose conditions open it; classify.ts composes them. */
  openedBy: readonly string[];
  severity: Severity;
  measure: Measure;
  /** The down ratio its condition is judged by; null for a latency kind (no down ratio). */
  downRatio: ((s: DetectionSettings) => number) | null;
  /** How many contributors its condition needs in `group` (the onset is the k-th earliest start). */
  needed(group: Group, s: DetectionSettings): number;
  /** The group an open event is judged on; null when no such group exists (anymore). */
  group(index: GroupIndex, s: DetectionSettings, scope: EventScope): Group | null;
  /**
   * The core of an open event's condition, on its group alone: it stays open while this holds,
   * even when the context needed to open it (others answering, enough measurable targets) is
   * gone; it closes when its own targets recover. false: no core (closes once its rule is clear).
   */
  core(group: Group, s: DetectionSettings): boolean;
  /**
   * The vantage cannot see: judged while the vantage is blind (every other kind is frozen then),
   * and a veto while such an event is open ends the blind period instead of cancelling it.
   */
  blinds: boolean;
  /**
   * While open its country is dark (classify.ts also darkens a country whose shutdown condition
   * holds): the country's events of `waitsWhileDark` kinds are frozen.
   */
  darkens: boolean;
  /** Frozen while its country is dark, or the last targets to recover would be named this kind. */
  waitsWhileDark: boolean;
  /**
   * Once closed, each member whose failure streak began before the close counts for nothing
   * until it recovers: its stragglers must not look like a smaller event.
   */
  aftermath: boolean;
  /** While open, its category counts as blocked in its country ('' for null): rules leave it out. */
  blocksCategory: boolean;
  /**
   * Its block evidence (rules/blocks.ts), null for a kind blocks never show: `group`, the blocks
   * its evidence.blocks counts; `holds`, whether their level alone keeps an open event open (the
   * block side of `core`; an event stays open while either side holds).
   */
  blocks: {
    group(view: BlockView, scope: EventScope): BlockGroup | null;
    holds(level: number, scope: EventScope): boolean;
    /**
     * The BlockFalls keys whose falls count anew once it recovers (its first clear evaluation)
     * and once it closes: its group's, and for an AS its
     * country's (the country's level is low while the AS recovers: not a new, smaller event).
     */
    fallKeys(scope: EventScope): string[];
  } | null;
  /** The status of a country with such an open event; null: it gives none. */
  countryState: CountryState | null;
  /** Its summary sentence; `insideOut`: its country is the vantage's own. */
  summary(e: Summarized, vantageId: string, insideOut: boolean): string;
}

const DOWN: Measure = {
  contributors: (g) => g.down,
  since: (t) => t.failStart,
  latencyRatio: () => undefined,
};

const SLOW: Measure = {
  contributors: (g) => g.slow,
  since: (t) => t.baseline.slowSince,
  latencyRatio: (g) => (g.ratios.length > 0 ? median(g.ratios) : undefined),
};

/** A kind judged by a down ratio over at least a minimum of eligible targets. */
function downRatioKind(ratio: (s: DetectionSettings) => number, min: (s: DetectionSettings) => number) {
  return {
    measure: DOWN,
    downRatio: ratio,
    needed: (g: Group, s: DetectionSettings): number => needed(ratio(s), g.eligible),
    core: (g: Group, s: DetectionSettings): boolean => mostlyDown(g, ratio(s), min(s)),
  };
}

/** A country's group, or for the vantage's own country its international targets. */
function countryGroup(index: GroupIndex, _s: DetectionSettings, { country }: EventScope): Group | null {
  if (country !== null && country === index.vantage.country) return index.international;
  return country === null ? null : (index.countries.get(country) ?? null);
}

export const KINDS: Record<EventKind, KindRules> = {
  shutdown: {
    openedBy: ['rules/gateway-cut.ts', 'rules/country-shutdown.ts', 'rules/blocks.ts'],
    severity: 'critical',
    ...downRatioKind((s) => s.shutdown_ratio, (s) => s.shutdown_min_targets),
    group: countryGroup,
    blinds: false,
    darkens: true,
    waitsWhileDark: false,
    aftermath: true,
    blocksCategory: false,
    blocks: {
      group: (view, { country }) => (country === null ? null : (view.countries.get(country) ?? null)),
      holds: (level) => level <= BLOCK_LEVELS.critical,
      fallKeys: ({ country }) => (country === null ? [] : [countryKey(country)]),
    },
    countryState: 'shutdown',
    summary: (e, _v, insideOut) =>
      insideOut
        ? `${where(e)}: ${unreachableOrBlocks(e, 'international targets')}${e.evidence.eligible > 0 ? ' while domestic targets answer' : ''}${how(e)}`
        : `${where(e)}: ${unreachableOrBlocks(e)}${how(e)}`,
  },
  partial_outage: {
    openedBy: ['rules/asn-outage.ts', 'rules/blocks.ts'],
    severity: 'warning',
    ...downRatioKind((s) => s.partial_ratio, (s) => s.partial_min_targets),
    group: (index, _s, { country, asn }) => index.asns.get(`${country}|${asn}`)?.group ?? null,
    blinds: false,
    darkens: false,
    waitsWhileDark: true,
    aftermath: true,
    blocksCategory: false,
    blocks: {
      // With no AS: a share of the country's blocks (rules/blocks.ts), judged on the country's.
      group: (view, { country, asn }) => (asn === null ? (country === null ? null : (view.countries.get(country) ?? null)) : (view.asns.get(asn) ?? null)),
      holds: (level, { asn }) => (asn === null ? level < BLOCK_LEVELS.warning : level <= BLOCK_LEVELS.critical),
      fallKeys: ({ country, asn }) => [...(asn === null ? [] : [asnKey(asn)]), ...(country === null ? [] : [countryKey(country)])],
    },
    countryState: 'partial',
    summary: (e) => `${where(e)}${e.asn === null ? '' : ` AS${e.asn}`}: ${unreachableOrBlocks(e)}${how(e)}`,
  },
  service_blocking: {
    openedBy: ['rules/blocking.ts'],
    severity: 'warning',
    ...downRatioKind((s) => s.partial_ratio, (s) => s.partial_min_targets),
    group: (index, s, { country, category }) => (category === null ? null : blockingGroup(index, s, country, category)),
    blinds: false,
    darkens: false,
    waitsWhileDark: true,
    aftermath: true,
    blocksCategory: true,
    blocks: null,
    countryState: 'blocking',
    summary: (e) => `${where(e)}: ${e.category ?? '?'} blocked, ${unreachable(e)}${how(e)}`,
  },
  degradation: {
    openedBy: ['rules/degradation.ts'],
    severity: 'warning',
    measure: SLOW,
    downRatio: null,
    // The median latency ratio is at the threshold once more than half of the measured are.
    needed: (g) => (g.ratios.length >> 1) + 1,
    core: (g, s) => g.ratios.length > 0 && median(g.ratios) >= s.degradation_latency_ratio,
    group: countryGroup,
    blinds: false,
    darkens: false,
    waitsWhileDark: true,
    aftermath: false,
    blocksCategory: false,
    blocks: null,
    countryState: 'degraded',
    summary: (e, _v, insideOut) => `${where(e)}: latency ${latency(e)} baseline${insideOut ? ' on international targets' : ''}`,
  },
  vantage_offline: {
    openedBy: ['rules/vantage.ts', 'rules/blocks.ts'],
    severity: 'critical',
    measure: DOWN,
    downRatio: (s) => s.vantage_offline_ratio,
    needed: (g, s) => needed(s.vantage_offline_ratio, g.eligible),
    // No core: it closes as soon as it is vetoed or the controls answer.
    core: () => false,
    group: (index) => index.controls,
    blinds: true,
    darkens: false,
    waitsWhileDark: false,
    aftermath: false,
    blocksCategory: false,
    blocks: {
      // Every judged country's blocks together; no core (it closes once its rule is clear).
      group: (view) => sumGroups([...view.countries.values()].filter((g) => levelOf(g) !== null)),
      holds: () => false,
      fallKeys: () => [],
    },
    countryState: null,
    summary: (e, vantageId) => `vantage ${vantageId} offline: ${unreachableOrBlocks(e, 'controls')}${how(e)}`,
  },
};
