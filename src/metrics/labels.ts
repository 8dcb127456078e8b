/**
 * The label sets of Lookout's series (docs/design.md "Metrics"), built here and nowhere else:
 * the scrape path (lookout-metrics.ts, detector-metrics.ts, geo-metrics.ts) and the remote
 * write collector (src/remote/collector.ts), which promises the same names and labels as the
 * scraped series, both take them from these functions.
 *
 * Contract: the keys of a label set are in the family's LABEL_NAMES order (the order of the
 * text exposition), `vantage` is never in them (a registry default, or added by the
 * collector), and `path` (a source binding's name) is there only for a bound target, path or
 * event: the default route's series have none, which Prometheus reads as `path=""`. Other
 * labels with no value are "" (a scrape shows `asn=""`; remote write leaves them out; both
 * mean the same to Prometheus). Builders are called when a series is made, never per probe.
 */
import { targetName, type ResolvedTarget } from '../config/schema.js';
import type { DisruptionEvent } from '../detect/events.js';

/** The label names of each family, in exposition order; `vantage` is added to all of them. */
export const LABEL_NAMES = {
  probeSuccess: ['target', 'path', 'country', 'asn', 'category', 'kind'],
  probeDuration: ['target', 'path', 'country', 'kind', 'phase'],
  probeLatency: ['country', 'kind'],
  probeFailures: ['target', 'path', 'country', 'kind', 'reason'],
  /** lookout_probe_skipped_total and lookout_tls_cert_expiry_timestamp_seconds. */
  perTarget: ['target', 'path'],
  /** lookout_probes_total and lookout_targets. */
  kind: ['kind'],
  targetUp: ['target', 'path', 'country', 'asn', 'category'],
  /** lookout_country_reachability_ratio and lookout_country_latency_ratio. */
  countryRatio: ['country', 'path'],
  disruptionActive: ['kind', 'country', 'asn', 'category', 'mechanism', 'path'],
  disruptionsTotal: ['kind', 'country', 'path'],
  vantageOnline: ['path'],
  geoMismatch: ['target', 'path', 'country', 'located_country', 'located_asn'],
  configReloads: ['result'],
  adaptiveProbes: ['cause'],
  buildInfo: ['version', 'node'],
  windowActive: ['window', 'kind'],
  disruptionExpected: ['kind', 'country', 'path', 'window'],
} as const;

type Family = keyof typeof LABEL_NAMES;
/** A family's label set: every label but `path`, which only a bound target, path or event has. */
export type LabelSet<F extends Family> = Omit<Record<(typeof LABEL_NAMES)[F][number], string>, 'path'> & { path?: string };

/** `{ path }` on a bound path's series, `{}` on the default route's. */
export function pathLabel(path: string | undefined): { path?: string } {
  return path ? { path } : {};
}

/** The asn label: the number as a string, "" when unknown. */
export function asnLabel(asn: number | null | undefined): string {
  return asn === null || asn === undefined ? '' : String(asn);
}

/** `{ target, path }`: the configured id (without `@path`) and, when bound, the binding's name. */
export function targetLabels(t: { id: string; path?: string }): LabelSet<'perTarget'> {
  return t.path ? { target: targetName(t), path: t.path } : { target: targetName(t) };
}

/** lookout_probe_success. */
export function probeSuccessLabels(t: ResolvedTarget): LabelSet<'probeSuccess'> {
  return Object.assign(targetLabels(t), { country: t.country, asn: asnLabel(t.asn), category: t.category, kind: t.kind });
}

/** The labels a target's duration series (plus `phase`) and failure counters (plus `reason`) share. */
export function probeLabels(t: ResolvedTarget): Omit<LabelSet<'probeDuration'>, 'phase'> {
  return Object.assign(targetLabels(t), { country: t.country, kind: t.kind });
}

/** `labels` followed by one more label, as a new object (the original is shared). */
export function withLabel<L extends object, N extends string>(labels: L, name: N, value: string): L & Record<N, string> {
  return Object.assign({}, labels, { [name]: value } as Record<N, string>);
}

/** lookout_probe_latency_seconds: one series per (country, kind), shared by its targets. */
export function probeLatencyLabels(t: ResolvedTarget): LabelSet<'probeLatency'> {
  return { country: t.country, kind: t.kind };
}

/** lookout_target_up, from the detector's view of a target (its id ends in `@path` when bound). */
export function targetUpLabels(t: { id: string; path?: string; country: string; asn: number | null; category: string }): LabelSet<'targetUp'> {
  return Object.assign(targetLabels(t), { country: t.country, asn: asnLabel(t.asn), category: t.category });
}

/** lookout_country_reachability_ratio and lookout_country_latency_ratio. */
export function countryLabels(country: string, path: string | undefined): LabelSet<'countryRatio'> {
  return Object.assign({ country }, pathLabel(path));
}

/** lookout_vantage_online. */
export function vantageOnlineLabels(path: string | undefined): LabelSet<'vantageOnline'> {
  return pathLabel(path);
}

/** lookout_disruption_active: one series per (kind, place, mechanism, path); open events add up. */
export function disruptionActiveLabels(e: Pick<DisruptionEvent, 'kind' | 'country' | 'asn' | 'category' | 'mechanism' | 'path'>): LabelSet<'disruptionActive'> {
  return Object.assign(
    { kind: e.kind, country: e.country ?? '', asn: asnLabel(e.asn), category: e.category ?? '', mechanism: e.mechanism ?? '' },
    pathLabel(e.path),
  );
}

/** lookout_disruptions_total. */
export function disruptionsTotalLabels(kind: string, country: string | null, path: string | undefined): LabelSet<'disruptionsTotal'> {
  return Object.assign({ kind, country: country ?? '' }, pathLabel(path));
}

/** lookout_target_geo_mismatch: where the target is declared and where its address was located. */
export function geoMismatchLabels(t: ResolvedTarget, located: { country: string | null; asn: number | null }): LabelSet<'geoMismatch'> {
  return Object.assign(targetLabels(t), { country: t.country, located_country: located.country ?? '', located_asn: asnLabel(located.asn) });
}
