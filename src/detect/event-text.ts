/**
 * Builds the public parts of an event from a group: id, evidence, summary, onset time.
 */
import type { DisruptionEvent, EventKind, Evidence } from './events.js';
import type { Group } from './groups.js';
import type { DetectionSettings } from './options.js';
import { median, needed } from './stats.js';
import type { TargetTracker } from './target-state.js';

/** At most this many target ids are listed in evidence (Evidence contract). */
export const MAX_EVIDENCE_TARGETS = 20;

/** `${kind}:${country ?? '-'}:${asn ?? category ?? '-'}:${startedAtMs}` — deterministic. */
export function eventId(kind: EventKind, country: string | null, asn: number | null, category: string | null, startedAt: number): string {
  return `${kind}:${country ?? '-'}:${asn ?? category ?? '-'}:${startedAt}`;
}

/**
 * Evidence from the group's current counts. `contributors` are the down targets (slow ones for
 * degradation): their reasons, asns, categories and (sorted, at most 20) ids are listed.
 */
export function buildEvidence(group: Group | null, contributors: readonly TargetTracker[], latencyRatio?: number): Evidence {
  const eligible = group?.eligible ?? 0;
  const down = group?.down.length ?? 0;
  const reasons: Record<string, number> = {};
  for (const t of group?.down ?? []) {
    const r = t.lastReason ?? 'unknown';
    reasons[r] = (reasons[r] ?? 0) + 1;
  }
  const sortedReasons: Record<string, number> = {};
  for (const r of Object.keys(reasons).sort()) sortedReasons[r] = reasons[r] as number;
  const asns = [...new Set(contributors.map((t) => t.target.asn).filter((a): a is number => a !== undefined))].sort((a, b) => a - b);
  const categories = [...new Set(contributors.map((t) => t.target.category))].sort();
  const ids = contributors.map((t) => t.id).sort();
  const evidence: Evidence = {
    eligible,
    down,
    ratio: eligible === 0 ? 0 : round(down / eligible),
    reasons: sortedReasons,
  };
  if (latencyRatio !== undefined) evidence.latency_ratio = round(latencyRatio);
  if (asns.length > 0) evidence.asns = asns;
  if (categories.length > 0) evidence.categories = categories;
  if (ids.length > 0) evidence.targets = ids.slice(0, MAX_EVIDENCE_TARGETS);
  return evidence;
}

/** Current median latency ratio of a group, when it has any. */
export function groupLatencyRatio(group: Group | null): number | undefined {
  return group && group.ratios.length > 0 ? median(group.ratios) : undefined;
}

/** One short human sentence, e.g. "KZ: 9 of 12 targets unreachable (75%), blackhole". */
export function summarize(
  event: Pick<DisruptionEvent, 'kind' | 'country' | 'asn' | 'category' | 'mechanism' | 'evidence'>,
  vantageId: string,
  insideOut: boolean,
): string {
  const e = event.evidence;
  const counts = `${e.down} of ${e.eligible}`;
  const pct = `(${Math.round(e.ratio * 100)}%)`;
  const how = event.mechanism === null ? '' : `, ${event.mechanism}`;
  const where = event.country ?? '-';
  switch (event.kind) {
    case 'vantage_offline':
      return `vantage ${vantageId} offline: ${counts} controls unreachable ${pct}${how}`;
    case 'shutdown':
      return insideOut
        ? `${where}: ${counts} international targets unreachable ${pct} while domestic targets answer${how}`
        : `${where}: ${counts} targets unreachable ${pct}${how}`;
    case 'partial_outage':
      return `${where} AS${event.asn ?? '?'}: ${counts} targets unreachable ${pct}${how}`;
    case 'service_blocking':
      return `${where}: ${event.category ?? '?'} blocked, ${counts} targets unreachable ${pct}${how}`;
    case 'degradation':
      return `${where}: latency ${(e.latency_ratio ?? 0).toFixed(1)}x baseline${insideOut ? ' on international targets' : ''}`;
  }
}

/**
 * Onset of a condition: when the disruption behind it began. T = the k-th earliest of the
 * contributors' failure-streak starts (slowness starts for degradation), k = how many
 * contributors the condition needs: when the condition first held. The members of one outage all
 * begin failing within one probe interval of each other, so the onset is the earliest start
 * within `windowMs` before T, among the contributors not in `exclude` (the members of another
 * event already open, e.g. an ASN outage that a shutdown follows). So a target that had been down
 * for hours (but is not dead yet) does not drag the start back, and a shutdown that follows an
 * ASN outage starts when the rest of the country went dark.
 */
export function onsetTime(
  kind: EventKind,
  group: Group,
  contributors: readonly TargetTracker[],
  s: DetectionSettings,
  now: number,
  windowMs: number,
  exclude: ReadonlySet<string>,
): number {
  const startOf = (t: TargetTracker): number => (kind === 'degradation' ? t.baseline.slowSince : t.failStart) ?? now;
  const k = kind === 'degradation' ? (group.ratios.length >> 1) + 1 : needed(ratioFor(kind, s), group.eligible);
  const times = contributors.map(startOf).sort((a, b) => a - b);
  if (times.length === 0) return now;
  const held = Math.min(times[Math.min(k, times.length) - 1] as number, now);
  let onset = held;
  for (const t of contributors) {
    const at = startOf(t);
    if (at < onset && at >= held - windowMs && !exclude.has(t.id)) onset = at;
  }
  return onset;
}

/** The down ratio a kind's condition is judged by (not used for degradation). */
export function ratioFor(kind: EventKind, s: DetectionSettings): number {
  switch (kind) {
    case 'vantage_offline':
      return s.vantage_offline_ratio;
    case 'shutdown':
      return s.shutdown_ratio;
    default:
      return s.partial_ratio;
  }
}

/** Rounds to 4 decimals, so the JSON stays short and stable. */
function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

