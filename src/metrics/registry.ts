/**
 * The daemon's metrics on its own prom-client Registry (never the global one), so that tests
 * and several daemons in one process never share series. Every series carries `vantage`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TARGET_KINDS, targetName, type ResolvedTarget, type TargetKind } from '../config/schema.js';
import { FAILURE_REASONS, PHASES, type FailureReason, type Phase } from '../probers/reasons.js';
import type { ProbeResult } from '../probers/types.js';
import { ADAPTIVE_CAUSES, type AdaptiveCause } from '../scheduler/adaptive.js';
import { LookoutRegistry } from './lookout-registry.js';
import * as names from './names.js';
import { collectRuntimeMetrics } from './runtime.js';
import { SeriesGauge, type GaugeSeries } from './series-gauge.js';

export interface MetricsOptions {
  /** vantage.id: the `vantage` label of every series. */
  vantage: string;
  /** Lookout's version, for lookout_build_info. */
  version: string;
  /** The Node.js version (process.version, passed in by main), for lookout_build_info. */
  nodeVersion: string;
  /** The targets currently configured; read at scrape time for lookout_targets. */
  targets: () => readonly ResolvedTarget[];
  /** Probes running right now; read at scrape time for lookout_probes_in_flight. */
  inFlight: () => number;
}

export interface LookoutMetrics {
  readonly registry: Registry;
  /**
   * Records one probe outcome: success gauge, per-phase durations (phases absent from the
   * result are removed, so no stale phase lingers), latency histogram (successes only),
   * failure counter by reason, certificate expiry when present, and the probe count.
   */
  recordProbe(result: ProbeResult, target: ResolvedTarget): void;
  /**
   * Removes every series of the target (a reload removed or changed it). Results recorded
   * later for the same target object, from a probe that was in flight during the reload, are
   * ignored; a target that a later config brings back is a new object and is recorded again.
   */
  forgetTarget(target: ResolvedTarget): void;
  /** Counts a scheduled probe of the target that was skipped. */
  probeSkipped(target: ResolvedTarget): void;
  /** Observes how late a probe started against its planned time, in seconds. */
  schedulerLag(seconds: number): void;
  /** Counts an extra probe of adaptive probing (src/scheduler/adaptive.ts) by its cause. */
  adaptiveProbe(cause: AdaptiveCause): void;
  /** Records the outcome of a config reload. */
  configReload(ok: boolean): void;
}

// `path` (the source binding's name) is set only on the series of a bound target: an unbound
// target's series are exactly as before source binding existed (to Prometheus, path="").
const SUCCESS_LABELS = ['target', 'path', 'country', 'asn', 'category', 'kind'] as const;
const DURATION_LABELS = ['target', 'path', 'country', 'kind', 'phase'] as const;
const LATENCY_LABELS = ['country', 'kind'] as const;
const FAILURE_LABELS = ['target', 'path', 'country', 'kind', 'reason'] as const;
const TARGET_LABELS = ['target', 'path'] as const;

type Labels<T extends readonly string[]> = Record<T[number], string>;
/** Labels with `path` left out for unbound targets. */
type PathLabels<T extends readonly string[]> = Omit<Labels<T>, 'path'> & { path?: string };

/** `{ target, path }` (path only when bound) followed by `rest`, in that order. */
function targetLabelsOf<R extends object>(t: ResolvedTarget, rest: R): { target: string; path?: string } & R {
  return Object.assign(t.path ? { target: targetName(t), path: t.path } : { target: targetName(t) }, rest);
}

/** Probe latency buckets: loopback milliseconds up to long timeouts. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Scheduler lag buckets: a healthy loop is in the low milliseconds, a stalled one in seconds. */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const KNOWN_REASONS: ReadonlySet<string> = new Set(FAILURE_REASONS);

/** A (country, kind) latency series shared by the targets that feed it. */
interface LatencyGroup {
  readonly labels: Labels<typeof LATENCY_LABELS>;
  readonly child: Histogram.Internal<(typeof LATENCY_LABELS)[number]>;
  /** Live target entries pointing at this group; the series is removed when it drops to 0. */
  refs: number;
}

/** Everything one target writes, built once so the hot path never assembles label objects. */
interface TargetSeries {
  /** Cleared by forgetTarget: late results for the old target object are then ignored. */
  live: boolean;
  /** kind, country, asn and category: a change means the series must be rebuilt. */
  readonly signature: string;
  readonly success: GaugeSeries;
  /** The duration labels but `phase`, for phase series made on first use. */
  readonly durationLabels: Omit<PathLabels<typeof DURATION_LABELS>, 'phase'>;
  /** One per phase, in PHASES order; null until the phase first appears in a result. */
  readonly phases: (GaugeSeries | null)[];
  /** Failure counters by reason, made on the first failure (most targets never fail). */
  failures: Map<FailureReason, Counter.Internal> | null;
  /** For the sparse per-target series (cert expiry, skipped probes), written by labels. */
  readonly targetLabels: PathLabels<typeof TARGET_LABELS>;
  /** The failure labels but `reason`. */
  readonly failureLabels: Omit<PathLabels<typeof FAILURE_LABELS>, 'reason'>;
  readonly group: LatencyGroup;
  readonly groupKey: string;
  readonly probes: Counter.Internal;
}

function signatureOf(t: ResolvedTarget): string {
  return `${t.kind}\u0000${t.country}\u0000${asnLabel(t.asn)}\u0000${t.category}`;
}

/** The asn label: the number as a string, "" when unknown. */
function asnLabel(asn: number | undefined): string {
  return asn === undefined ? '' : String(asn);
}

/** Builds the metrics, with the process_* and nodejs_* runtime metrics on the same registry. */
export function createMetrics(opts: MetricsOptions): LookoutMetrics {
  const registry: Registry = new LookoutRegistry();
  registry.setDefaultLabels({ [names.VANTAGE_LABEL]: opts.vantage });
  collectRuntimeMetrics(registry);
  const registers = [registry];

  // One or more series per target, written by every probe: SeriesGauge (see there for why).
  const success = new SeriesGauge({
    name: names.PROBE_SUCCESS,
    help: 'Whether the last probe of the target succeeded (1) or failed (0).',
    labelNames: SUCCESS_LABELS,
    registers,
  });
  const duration = new SeriesGauge({
    name: names.PROBE_DURATION_SECONDS,
    help: 'Seconds spent in each phase of the last probe of the target.',
    labelNames: DURATION_LABELS,
    registers,
  });
  const latency = new Histogram({
    name: names.PROBE_LATENCY_SECONDS,
    help: 'Total time of successful probes, seconds.',
    labelNames: LATENCY_LABELS,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const failures = new Counter({
    name: names.PROBE_FAILURES_TOTAL,
    help: 'Failed probes by failure reason code.',
    labelNames: FAILURE_LABELS,
    registers,
  });
  const probes = new Counter({
    name: names.PROBES_TOTAL,
    help: 'Probes completed, successful or not.',
    labelNames: ['kind'] as const,
    registers,
  });
  const skipped = new Counter({
    name: names.PROBE_SKIPPED_TOTAL,
    help: "Scheduled probes skipped because the target's previous probe was still queued or running.",
    labelNames: TARGET_LABELS,
    registers,
  });
  const adaptive = new Counter({
    name: names.ADAPTIVE_PROBES_TOTAL,
    help: 'Extra probes outside their slots because a group started failing or answering again, by cause.',
    labelNames: ['cause'] as const,
    registers,
  });
  for (const cause of ADAPTIVE_CAUSES) adaptive.inc({ cause }, 0);
  const certExpiry = new Gauge({
    name: names.TLS_CERT_EXPIRY_TIMESTAMP_SECONDS,
    help: 'Expiry (notAfter) of the leaf certificate last seen for the target, seconds since the epoch.',
    labelNames: TARGET_LABELS,
    registers,
  });
  const lag = new Histogram({
    name: names.SCHEDULER_LAG_SECONDS,
    help: 'How late probes started against their planned time, seconds.',
    buckets: LAG_BUCKETS,
    registers,
  });
  new Gauge({
    name: names.PROBES_IN_FLIGHT,
    help: 'Probes running right now.',
    registers,
    collect(this: Gauge) {
      this.set(opts.inFlight());
    },
  });
  new Gauge({
    name: names.TARGETS,
    help: 'Configured targets by kind.',
    labelNames: ['kind'] as const,
    registers,
    collect(this: Gauge<'kind'>) {
      const counts = new Map<TargetKind, number>(TARGET_KINDS.map((k) => [k, 0]));
      for (const t of opts.targets()) counts.set(t.kind, (counts.get(t.kind) ?? 0) + 1);
      for (const [kind, n] of counts) this.set({ kind }, n);
    },
  });
  const reloadOk = new Gauge({
    name: names.CONFIG_LAST_RELOAD_SUCCESSFUL,
    help: 'Whether the last config reload succeeded (1 also at start, with the initial config).',
    registers,
  });
  const reloads = new Counter({
    name: names.CONFIG_RELOADS_TOTAL,
    help: 'Config reload attempts by result.',
    labelNames: ['result'] as const,
    registers,
  });
  const buildInfo = new Gauge({
    name: names.BUILD_INFO,
    help: 'Build information; always 1.',
    labelNames: ['version', 'node'] as const,
    registers,
  });

  buildInfo.set({ version: opts.version, node: opts.nodeVersion }, 1);
  reloadOk.set(1);
  const reloadSuccess = reloads.labels({ result: 'success' });
  const reloadFailure = reloads.labels({ result: 'failure' });
  reloadSuccess.inc(0);
  reloadFailure.inc(0);
  const probesByKind = new Map<TargetKind, Counter.Internal>();
  for (const kind of TARGET_KINDS) {
    const child = probes.labels({ kind });
    child.inc(0);
    probesByKind.set(kind, child);
  }

  const byId = new Map<string, TargetSeries>();
  const byObject = new WeakMap<ResolvedTarget, TargetSeries>();
  const groups = new Map<string, LatencyGroup>();
  /** Target objects passed to forgetTarget, even ones that never recorded a result. */
  const forgotten = new WeakSet<ResolvedTarget>();

  function build(t: ResolvedTarget, signature: string): TargetSeries {
    const groupKey = `${t.country}\u0000${t.kind}`;
    let group = groups.get(groupKey);
    if (!group) {
      const labels = { country: t.country, kind: t.kind };
      group = { labels, child: latency.labels(labels), refs: 0 };
      groups.set(groupKey, group);
    }
    group.refs += 1;
    const successLabels = targetLabelsOf(t, { country: t.country, asn: asnLabel(t.asn), category: t.category, kind: t.kind });
    const targetLabels = targetLabelsOf(t, {});
    const probeCounter = probesByKind.get(t.kind);
    if (!probeCounter) throw new Error(`unknown target kind ${t.kind}`);
    return {
      live: true,
      signature,
      success: success.series(successLabels),
      durationLabels: targetLabelsOf(t, { country: t.country, kind: t.kind }),
      failureLabels: targetLabelsOf(t, { country: t.country, kind: t.kind }),
      phases: PHASES.map(() => null),
      failures: null,
      targetLabels,
      group,
      groupKey,
      probes: probeCounter,
    };
  }

  function drop(s: TargetSeries): void {
    s.live = false;
    success.delete(s.success);
    for (const p of s.phases) if (p) duration.delete(p);
    for (const reason of s.failures?.keys() ?? []) {
      failures.remove(Object.assign({}, s.failureLabels, { reason }));
    }
    certExpiry.remove(s.targetLabels);
    skipped.remove(s.targetLabels);
    s.group.refs -= 1;
    if (s.group.refs === 0) {
      latency.remove(s.group.labels);
      groups.delete(s.groupKey);
    }
  }

  /** The target's series, built on first use; null for a target object already forgotten. */
  function seriesOf(t: ResolvedTarget): TargetSeries | null {
    const cached = byObject.get(t);
    if (cached) return cached.live ? cached : null;
    if (forgotten.has(t)) return null;
    // A new target object (first sight, or a reload): reuse the series unless the labels changed.
    const signature = signatureOf(t);
    let s = byId.get(t.id);
    if (s && s.signature !== signature) {
      drop(s);
      s = undefined;
    }
    if (!s) {
      s = build(t, signature);
      byId.set(t.id, s);
    }
    byObject.set(t, s);
    return s;
  }

  function failureCounter(s: TargetSeries, reason: FailureReason): Counter.Internal {
    s.failures ??= new Map();
    let c = s.failures.get(reason);
    if (!c) {
      c = failures.labels(Object.assign({}, s.failureLabels, { reason }));
      s.failures.set(reason, c);
    }
    return c;
  }

  return {
    registry,

    recordProbe(result, target) {
      const s = seriesOf(target);
      if (!s) return;
      s.success.set(result.ok ? 1 : 0);
      for (let i = 0; i < PHASES.length; i++) {
        const phase = PHASES[i] as Phase;
        const v = result.phases[phase];
        if (v !== undefined && Number.isFinite(v)) {
          // Made once per (target, phase): the label object is not on the per-probe path.
          (s.phases[i] ??= duration.series(Object.assign({}, s.durationLabels, { phase }))).set(v);
        } else s.phases[i]?.clear();
      }
      if (result.ok) {
        const total = result.phases.total;
        if (total !== undefined && Number.isFinite(total) && total >= 0) s.group.child.observe(total);
      } else {
        const reason = result.reason !== null && KNOWN_REASONS.has(result.reason) ? result.reason : 'unknown';
        failureCounter(s, reason).inc();
      }
      if (result.cert_expiry !== undefined && Number.isFinite(result.cert_expiry)) certExpiry.set(s.targetLabels, result.cert_expiry);
      s.probes.inc();
    },

    forgetTarget(target) {
      forgotten.add(target);
      const s = byId.get(target.id);
      if (!s) return;
      drop(s);
      byId.delete(target.id);
    },

    probeSkipped(target) {
      const s = seriesOf(target);
      if (s) skipped.inc(s.targetLabels);
    },

    adaptiveProbe(cause) {
      adaptive.inc({ cause });
    },

    schedulerLag(seconds) {
      if (Number.isFinite(seconds)) lag.observe(Math.max(0, seconds));
    },

    configReload(ok) {
      reloadOk.set(ok ? 1 : 0);
      (ok ? reloadSuccess : reloadFailure).inc();
    },
  };
}
