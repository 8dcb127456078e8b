/**
 * The per-target series cache: everything one target writes on the probe path, built once per
 * target (so that a probe never assembles a label object) and removed when a reload removes or
 * relabels the target. The families themselves are in daemon-metrics.ts; labels come from
 * labels.ts.
 */
import type { Counter, Histogram } from 'prom-client';
import type { ResolvedTarget } from '../config/schema.js';
import { PHASES, type FailureReason, type Phase } from '../probers/reasons.js';
import type { DaemonMetricSet } from './daemon-metrics.js';
import { asnLabel, probeLabels, probeLatencyLabels, probeSuccessLabels, targetLabels, withLabel, type LabelSet } from './labels.js';
import type { GaugeSeries } from './series-gauge.js';

/** A (country, kind) latency series shared by the targets that feed it. */
interface LatencyGroup {
  readonly labels: LabelSet<'probeLatency'>;
  readonly child: Histogram.Internal<'country' | 'kind'>;
  /** Live target entries pointing at this group; the series is removed when it drops to 0. */
  refs: number;
}

/** Everything one target writes. */
export interface TargetSeries {
  /** Cleared when the target is forgotten: late results for the old target object are then ignored. */
  live: boolean;
  /** kind, country, asn and category: a change means the series must be rebuilt. */
  readonly signature: string;
  readonly success: GaugeSeries;
  /** The labels of the duration series and failure counters, but `phase` and `reason`. */
  readonly probeLabels: ReturnType<typeof probeLabels>;
  /** One per phase, in PHASES order; null until the phase first appears in a result. */
  readonly phases: (GaugeSeries | null)[];
  /** Failure counters by reason, made on the first failure (most targets never fail). */
  failures: Map<FailureReason, Counter.Internal> | null;
  /** For the sparse per-target series (cert expiry, skipped probes), written by labels. */
  readonly targetLabels: LabelSet<'perTarget'>;
  readonly group: LatencyGroup;
  readonly groupKey: string;
  readonly probes: Counter.Internal;
}

function signatureOf(t: ResolvedTarget): string {
  return `${t.kind}\u0000${t.country}\u0000${asnLabel(t.asn)}\u0000${t.category}`;
}

export class TargetSeriesCache {
  private readonly byId = new Map<string, TargetSeries>();
  private readonly byObject = new WeakMap<ResolvedTarget, TargetSeries>();
  private readonly groups = new Map<string, LatencyGroup>();
  /** Target objects passed to forget(), even ones that never recorded a result. */
  private readonly forgotten = new WeakSet<ResolvedTarget>();

  constructor(private readonly set: DaemonMetricSet) {}

  /**
   * The target's series, built on first use; null for a target object already forgotten. A
   * new object with the id of a known target (a reload) takes over its series unless its
   * labels changed.
   */
  get(t: ResolvedTarget): TargetSeries | null {
    const cached = this.byObject.get(t);
    if (cached) return cached.live ? cached : null;
    if (this.forgotten.has(t)) return null;
    const signature = signatureOf(t);
    let s = this.byId.get(t.id);
    if (s && s.signature !== signature) {
      this.drop(s);
      s = undefined;
    }
    if (!s) {
      s = this.build(t, signature);
      this.byId.set(t.id, s);
    }
    this.byObject.set(t, s);
    return s;
  }

  /** Removes every series of the target; later results for this target object are ignored. */
  forget(t: ResolvedTarget): void {
    this.forgotten.add(t);
    const s = this.byId.get(t.id);
    if (!s) return;
    this.drop(s);
    this.byId.delete(t.id);
  }

  /** The duration series of the phase at PHASES[index], made on first use (not per probe). */
  phase(s: TargetSeries, index: number): GaugeSeries {
    return (s.phases[index] ??= this.set.duration.series(withLabel(s.probeLabels, 'phase', PHASES[index] as Phase)));
  }

  /** The failure counter of a reason, made on the target's first failure with it. */
  failure(s: TargetSeries, reason: FailureReason): Counter.Internal {
    s.failures ??= new Map();
    let c = s.failures.get(reason);
    if (!c) {
      c = this.set.failures.labels(withLabel(s.probeLabels, 'reason', reason));
      s.failures.set(reason, c);
    }
    return c;
  }

  private build(t: ResolvedTarget, signature: string): TargetSeries {
    const groupKey = `${t.country}\u0000${t.kind}`;
    let group = this.groups.get(groupKey);
    if (!group) {
      const labels = probeLatencyLabels(t);
      group = { labels, child: this.set.latency.labels(labels), refs: 0 };
      this.groups.set(groupKey, group);
    }
    group.refs += 1;
    const probes = this.set.probesByKind.get(t.kind);
    if (!probes) throw new Error(`unknown target kind ${t.kind}`);
    return {
      live: true,
      signature,
      success: this.set.success.series(probeSuccessLabels(t)),
      probeLabels: probeLabels(t),
      phases: PHASES.map(() => null),
      failures: null,
      targetLabels: targetLabels(t),
      group,
      groupKey,
      probes,
    };
  }

  private drop(s: TargetSeries): void {
    const { success, duration, failures, certExpiry, skipped, latency } = this.set;
    s.live = false;
    success.delete(s.success);
    for (const p of s.phases) if (p) duration.delete(p);
    for (const reason of s.failures?.keys() ?? []) failures.remove(withLabel(s.probeLabels, 'reason', reason));
    certExpiry.remove(s.targetLabels);
    skipped.remove(s.targetLabels);
    s.group.refs -= 1;
    if (s.group.refs === 0) {
      latency.remove(s.group.labels);
      this.groups.delete(s.groupKey);
    }
  }
}
