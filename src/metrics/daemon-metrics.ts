/**
 * The definitions of the daemon's own metrics (probe outcomes, scheduler, reloads, build) as
 * one struct, the way Prometheus keeps its queue manager's metrics in their own struct:
 * defineDaemonMetrics() registers every family once; the per-target series cache
 * (target-series.ts) and createMetrics() (lookout-metrics.ts) only write to them.
 */
import { ADAPTIVE_CAUSES, type AdaptiveCause } from '../scheduler/adaptive.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TARGET_KINDS, type ResolvedTarget, type TargetKind } from '../config/schema.js';
import { LABEL_NAMES } from './labels.js';
import * as names from './names.js';
import { SeriesGauge } from './series-gauge.js';

/** Probe latency buckets: loopback milliseconds up to long timeouts. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Scheduler lag buckets: a healthy loop is in the low milliseconds, a stalled one in seconds. */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Names<F extends keyof typeof LABEL_NAMES> = (typeof LABEL_NAMES)[F][number];

/** What the scrape-time families read. */
export interface DaemonMetricsSource {
  /** The targets currently configured; read at scrape time for lookout_targets. */
  targets: () => readonly ResolvedTarget[];
  /** Probes running right now; read at scrape time for lookout_probes_in_flight. */
  inFlight: () => number;
}

/** Every family the daemon writes itself, with the children that exist from the start. */
export interface DaemonMetricSet {
  /** One or more series per target, written by every probe: SeriesGauge (see there for why). */
  readonly success: SeriesGauge<Names<'probeSuccess'>>;
  readonly duration: SeriesGauge<Names<'probeDuration'>>;
  readonly latency: Histogram<Names<'probeLatency'>>;
  readonly failures: Counter<Names<'probeFailures'>>;
  /** lookout_probes_total by kind, every kind at 0 from the start. */
  readonly probesByKind: ReadonlyMap<TargetKind, Counter.Internal>;
  readonly skipped: Counter<Names<'perTarget'>>;
  readonly certExpiry: Gauge<Names<'perTarget'>>;
  readonly lag: Histogram;
  /** lookout_adaptive_probes_total by cause, every cause at 0 from the start. */
  readonly adaptive: ReadonlyMap<AdaptiveCause, Counter.Internal>;
  readonly reloadOk: Gauge;
  readonly reloadSuccess: Counter.Internal;
  readonly reloadFailure: Counter.Internal;
}

/** Registers the daemon's own families on `registry` (build info set, reload state as at a good start). */
export function defineDaemonMetrics(registry: Registry, source: DaemonMetricsSource, build: { version: string; node: string }): DaemonMetricSet {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => new Counter({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> => new Gauge({ name, help, labelNames, registers });

  const success = new SeriesGauge({
    name: names.PROBE_SUCCESS,
    help: 'Whether the last probe of the target succeeded (1) or failed (0).',
    labelNames: LABEL_NAMES.probeSuccess,
    registers,
  });
  const duration = new SeriesGauge({
    name: names.PROBE_DURATION_SECONDS,
    help: 'Seconds spent in each phase of the last probe of the target.',
    labelNames: LABEL_NAMES.probeDuration,
    registers,
  });
  const latency = new Histogram({
    name: names.PROBE_LATENCY_SECONDS,
    help: 'Total time of successful probes, seconds.',
    labelNames: LABEL_NAMES.probeLatency,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const failures = counter(names.PROBE_FAILURES_TOTAL, 'Failed probes by failure reason code.', LABEL_NAMES.probeFailures);
  const probes = counter(names.PROBES_TOTAL, 'Probes completed, successful or not.', LABEL_NAMES.kind);
  const skipped = counter(
    names.PROBE_SKIPPED_TOTAL,
    "Scheduled probes skipped because the target's previous probe was still queued or running.",
    LABEL_NAMES.perTarget,
  );
  const certExpiry = gauge(
    names.TLS_CERT_EXPIRY_TIMESTAMP_SECONDS,
    'Expiry (notAfter) of the leaf certificate last seen for the target, seconds since the epoch.',
    LABEL_NAMES.perTarget,
  );
  const adaptiveProbes = counter(
    names.ADAPTIVE_PROBES_TOTAL,
    'Extra probes outside their slots because a group started failing or answering again, by cause.',
    LABEL_NAMES.adaptiveProbes,
  );
  const adaptive = new Map<AdaptiveCause, Counter.Internal>();
  for (const cause of ADAPTIVE_CAUSES) {
    const child = adaptiveProbes.labels({ cause });
    child.inc(0);
    adaptive.set(cause, child);
  }
  const lag = new Histogram({ name: names.SCHEDULER_LAG_SECONDS, help: 'How late probes started against their planned time, seconds.', buckets: LAG_BUCKETS, registers });
  new Gauge({
    name: names.PROBES_IN_FLIGHT,
    help: 'Probes running right now.',
    registers,
    collect(this: Gauge) {
      this.set(source.inFlight());
    },
  });
  new Gauge({
    name: names.TARGETS,
    help: 'Configured targets by kind.',
    labelNames: LABEL_NAMES.kind,
    registers,
    collect(this: Gauge<Names<'kind'>>) {
      const counts = new Map<TargetKind, number>(TARGET_KINDS.map((k) => [k, 0]));
      for (const t of source.targets()) counts.set(t.kind, (counts.get(t.kind) ?? 0) + 1);
      for (const [kind, n] of counts) this.set({ kind }, n);
    },
  });
  const reloadOk = gauge(names.CONFIG_LAST_RELOAD_SUCCESSFUL, 'Whether the last config reload succeeded (1 also at start, with the initial config).', []);
  const reloads = counter(names.CONFIG_RELOADS_TOTAL, 'Config reload attempts by result.', LABEL_NAMES.configReloads);
  gauge(names.BUILD_INFO, 'Build information; always 1.', LABEL_NAMES.buildInfo).set({ version: build.version, node: build.node }, 1);

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
  return { success, duration, latency, failures, probesByKind, skipped, certExpiry, lag, adaptive, reloadOk, reloadSuccess, reloadFailure };
}
