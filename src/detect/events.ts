import type { BlockEvidence } from './block-view.js';

/**
 * Disruption events: the timeline the detector produces, the store keeps and the API serves
 * (docs/design.md "Events"). Field names are the public JSON contract.
 */
export const EVENT_KINDS = ['shutdown', 'partial_outage', 'service_blocking', 'degradation', 'vantage_offline'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** How a blocking was done, named from the dominant failure reasons (docs/design.md). */
export const MECHANISMS = ['dns', 'tcp_reset', 'tls', 'http', 'blackhole'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

export const SEVERITIES = ['critical', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The counts behind an event, so an operator can judge it without the raw results. */
export interface Evidence {
  /** Targets that count (not dead, not controls unless the event is about controls). */
  eligible: number;
  down: number;
  /** down / eligible at the last evaluation at which the event's condition held. */
  ratio: number;
  /** Down targets by failure reason. */
  reasons: Record<string, number>;
  /** Median latency over baseline, for degradation. */
  latency_ratio?: number;
  /** ASNs or categories involved, when the scope spans several. */
  asns?: number[];
  categories?: string[];
  /** Ids of the down (or slow) targets, at most 20. */
  targets?: string[];
  /** The /24 blocks of its country or AS (all countries for vantage_offline), with block probing on. */
  blocks?: BlockEvidence;
}

export interface DisruptionEvent {
  /** Stable and deterministic: the same input gives the same id. */
  id: string;
  kind: EventKind;
  /** Where the disruption happens (null only for vantage_offline when the vantage has no country). */
  country: string | null;
  asn: number | null;
  category: string | null;
  mechanism: Mechanism | null;
  severity: Severity;
  /** ISO 8601 UTC. */
  started_at: string;
  /** ISO 8601 UTC; null while active. */
  ended_at: string | null;
  summary: string;
  evidence: Evidence;
  /**
   * The source binding (path) the event was seen through; absent for the default route. One
   * path's results never feed another path's events (docs/detection.md "Paths").
   */
  path?: string;
  /** The `expected` window the event opened in (issue 25; set by the app, src/windows/event-windows.ts). */
  expected?: string;
  /** The `maintenance` window a vantage_offline opened in (issue 25). */
  maintenance?: string;
}

/** Timeline order (the store and GET /api/v1/events): by started_at, then id. */
export function compareTimeline(a: DisruptionEvent, b: DisruptionEvent): number {
  return Date.parse(a.started_at) - Date.parse(b.started_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
