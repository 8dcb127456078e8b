/**
 * Turns probe results and detector evaluations into remote write samples, each at the time it
 * was measured, with the same names and labels as the scraped series: the label sets come from
 * src/metrics/labels.ts, as the scrape path's do, plus `vantage`, with empty values left out
 * (to Prometheus an empty label is an absent one). The probe path is cheap: each target's
 * series are built once (per target object, so a reload that changes a target builds new ones)
 * and a result costs a few array pushes per queue.
 */
import type { ResolvedTarget } from '../config/schema.js';
import type { DisruptionEvent } from '../detect/events.js';
import { pathViews, type DetectorView } from '../metrics/detector-metrics.js';
import { countryLabels, disruptionActiveLabels, probeLabels, probeSuccessLabels, vantageOnlineLabels, withLabel } from '../metrics/labels.js';
import * as names from '../metrics/names.js';
import { PHASES } from '../probers/reasons.js';
import type { ProbeResult } from '../probers/types.js';
import type { Label } from './prompb.js';
import { SeriesRef } from './queue.js';

/** Where samples go: every configured remote's queue. */
export interface SampleSink {
  append(series: SeriesRef, ts: number, value: number): void;
}

/** One path's verdicts (path "" is the default route; a source binding's name otherwise). */
export interface PathView {
  path: string;
  online: boolean | null;
  countries: readonly { country: string; ratio: number | null }[];
}

/** What the collector reads from the detector at each evaluation: every path, and the open events. */
export interface EvaluationView {
  paths: readonly PathView[];
  active: readonly DisruptionEvent[];
}

/** What the collector takes from a detector at an evaluation: the verdicts the scrape shows too. */
export function evaluationOf(detector: DetectorView): EvaluationView {
  const paths = pathViews(detector.status()).map((p) => ({ path: p.path, online: p.vantage.online, countries: p.countries }));
  return { paths, active: detector.active() };
}

interface TargetRefs {
  success: SeriesRef;
  /** By PHASES index. */
  phases: SeriesRef[];
}

/** Labels sorted by name with __name__ first, empty (or absent) values left out. */
export function seriesOf(name: string, labels: Readonly<Partial<Record<string, string>>>): SeriesRef {
  const list: Label[] = [{ name: '__name__', value: name }];
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key];
    if (value !== undefined && value !== '') list.push({ name: key, value });
  }
  return new SeriesRef(list);
}

export class Collector {
  private readonly targets = new WeakMap<ResolvedTarget, TargetRefs>();
  private readonly evalSeries = new Map<string, SeriesRef>();
  /** Disruption series that were 1 at the last evaluation: they get a 0 when their event closes. */
  private lastActive = new Set<SeriesRef>();
  /** Time of the last evaluation recorded: one at the same instant again is not sent twice. */
  private lastEvaluation = -Infinity;

  constructor(
    private readonly vantage: string,
    private readonly sinks: () => readonly SampleSink[],
  ) {}

  /** One probe result: lookout_probe_success and lookout_probe_duration_seconds{phase} at result.at. */
  probe(result: ProbeResult, target: ResolvedTarget): void {
    const sinks = this.sinks();
    if (sinks.length === 0) return;
    let refs = this.targets.get(target);
    if (refs === undefined) {
      refs = this.build(target);
      this.targets.set(target, refs);
    }
    const at = result.at;
    const ok = result.ok ? 1 : 0;
    for (const sink of sinks) sink.append(refs.success, at, ok);
    for (let i = 0; i < PHASES.length; i++) {
      const seconds = result.phases[PHASES[i] as (typeof PHASES)[number]];
      if (seconds === undefined) continue;
      for (const sink of sinks) sink.append(refs.phases[i] as SeriesRef, at, seconds);
    }
  }

  /**
   * One detector evaluation at `at`: the country ratios, lookout_disruption_active (1 per open
   * event; 0 once for a series whose events all closed) and lookout_vantage_online.
   */
  evaluation(at: number, view: EvaluationView): void {
    const sinks = this.sinks();
    if (sinks.length === 0) return;
    // A second evaluation at the same instant would be a duplicate sample (with a different
    // value, a receiver refuses the whole batch); one earlier would be out of order.
    if (at <= this.lastEvaluation) return;
    this.lastEvaluation = at;
    const emit = (ref: SeriesRef, value: number): void => {
      for (const sink of sinks) sink.append(ref, at, value);
    };
    for (const p of view.paths) {
      if (p.online !== null) emit(this.evalRef(names.VANTAGE_ONLINE, vantageOnlineLabels(p.path)), p.online ? 1 : 0);
      for (const c of p.countries) {
        if (c.ratio !== null) emit(this.evalRef(names.COUNTRY_REACHABILITY_RATIO, countryLabels(c.country, p.path)), c.ratio);
      }
    }
    const active = new Map<SeriesRef, number>();
    for (const e of view.active) {
      const ref = this.evalRef(names.DISRUPTION_ACTIVE, disruptionActiveLabels(e));
      active.set(ref, (active.get(ref) ?? 0) + 1);
    }
    for (const [ref, n] of active) emit(ref, n);
    for (const ref of this.lastActive) if (!active.has(ref)) emit(ref, 0);
    this.lastActive = new Set(active.keys());
  }

  private build(t: ResolvedTarget): TargetRefs {
    const success = this.ref(names.PROBE_SUCCESS, probeSuccessLabels(t));
    const labels = probeLabels(t);
    const phases = PHASES.map((phase) => this.ref(names.PROBE_DURATION_SECONDS, withLabel(labels, 'phase', phase)));
    return { success, phases };
  }

  /** An evaluation series, made once per label set. */
  private evalRef(name: string, labels: Readonly<Partial<Record<string, string>>>): SeriesRef {
    const key = `${name}\u0000${Object.entries(labels).join('\u0000')}`;
    let ref = this.evalSeries.get(key);
    if (ref === undefined) {
      ref = this.ref(name, labels);
      this.evalSeries.set(key, ref);
    }
    return ref;
  }

  /** A series of the family `name` with a label set from src/metrics/labels.ts, plus `vantage`. */
  private ref(name: string, labels: Readonly<Partial<Record<string, string>>>): SeriesRef {
    return seriesOf(name, Object.assign({ [names.VANTAGE_LABEL]: this.vantage }, labels));
  }
}
