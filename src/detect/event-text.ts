/**
 * Words the public parts of an event: its id, its evidence (from a group's counts) and the words
 * its summary sentence is made of (each kind's sentence is in kinds.ts).
 */
import type { DisruptionEvent, EventKind, Evidence } from './events.js';
import type { Group } from './groups.js';
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

/** The event fields a summary sentence is worded from. */
export type Summarized = Pick<DisruptionEvent, 'kind' | 'country' | 'asn' | 'category' | 'mechanism' | 'evidence'>;

/** Where the event happens, as a summary opens: its country, or "-". */
export function where(e: Summarized): string {
  return e.country ?? '-';
}

/** "9 of 12 targets unreachable (75%)": the evidence's counts (`what` names the targets). */
export function unreachable(e: Summarized, what = 'targets'): string {
  const x = e.evidence;
  return `${x.down} of ${x.eligible} ${what} unreachable (${Math.round(x.ratio * 100)}%)`;
}

/**
 * The evidence's counts as a summary says them: the targets (as `unreachable`) and, with block
 * evidence, "14 of 120 blocks up (12% of ordinary)"; the targets are left out when none counts.
 */
export function unreachableOrBlocks(e: Summarized, what = 'targets'): string {
  const b = e.evidence.blocks;
  if (b === undefined) return unreachable(e, what);
  const blocks = `${b.up} of ${b.monitored} blocks up (${b.ordinary_pct === null ? '?' : Math.round(b.ordinary_pct)}% of ordinary)`;
  return e.evidence.eligible > 0 ? `${unreachable(e, what)}; ${blocks}` : blocks;
}

/** ", blackhole": the mechanism as a summary ends, or nothing. */
export function how(e: Summarized): string {
  return e.mechanism === null ? '' : `, ${e.mechanism}`;
}

/** "3.2x": the evidence's latency ratio. */
export function latency(e: Summarized): string {
  return `${(e.evidence.latency_ratio ?? 0).toFixed(1)}x`;
}

/** Rounds to 4 decimals, so the JSON stays short and stable. */
function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

