/**
 * The daemon's metrics on its own prom-client Registry (never the global one), so that tests
 * and several daemons in one process never share series. Every series carries `vantage`.
 * The families are defined in daemon-metrics.ts, each target's series are kept by
 * target-series.ts; this module is what the app writes to.
 */
import type { Registry } from 'prom-client';
import type { ResolvedTarget } from '../config/schema.js';
import { FAILURE_REASONS, PHASES, type Phase } from '../probers/reasons.js';
import type { ProbeResult } from '../probers/types.js';
import type { AdaptiveCause } from '../scheduler/adaptive.js';
import { defineDaemonMetrics, type DaemonMetricsSource } from './daemon-metrics.js';
import { LookoutRegistry } from './lookout-registry.js';
import * as names from './names.js';
import { collectRuntimeMetrics } from './runtime.js';
import { TargetSeriesCache } from './target-series.js';

export interface MetricsOptions extends DaemonMetricsSource {
  /** vantage.id: the `vantage` label of every series. */
  vantage: string;
  /** Lookout's version, for lookout_build_info. */
  version: string;
  /** The Node.js version (process.version, passed in by main), for lookout_build_info. */
  nodeVersion: string;
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

const KNOWN_REASONS: ReadonlySet<string> = new Set(FAILURE_REASONS);

/** Builds the metrics, with the process_* and nodejs_* runtime metrics on the same registry. */
export function createMetrics(opts: MetricsOptions): LookoutMetrics {
  const registry: Registry = new LookoutRegistry();
  registry.setDefaultLabels({ [names.VANTAGE_LABEL]: opts.vantage });
  collectRuntimeMetrics(registry);
  const set = defineDaemonMetrics(registry, opts, { version: opts.version, node: opts.nodeVersion });
  const cache = new TargetSeriesCache(set);

  return {
    registry,

    recordProbe(result, target) {
      const s = cache.get(target);
      if (!s) return;
      s.success.set(result.ok ? 1 : 0);
      for (let i = 0; i < PHASES.length; i++) {
        const v = result.phases[PHASES[i] as Phase];
        if (v !== undefined && Number.isFinite(v)) cache.phase(s, i).set(v);
        else s.phases[i]?.clear();
      }
      if (result.ok) {
        const total = result.phases.total;
        if (total !== undefined && Number.isFinite(total) && total >= 0) s.group.child.observe(total);
      } else {
        const reason = result.reason !== null && KNOWN_REASONS.has(result.reason) ? result.reason : 'unknown';
        cache.failure(s, reason).inc();
      }
      if (result.cert_expiry !== undefined && Number.isFinite(result.cert_expiry)) set.certExpiry.set(s.targetLabels, result.cert_expiry);
      s.probes.inc();
    },

    forgetTarget(target) {
      cache.forget(target);
    },

    probeSkipped(target) {
      const s = cache.get(target);
      if (s) set.skipped.inc(s.targetLabels);
    },

    adaptiveProbe(cause) {
      set.adaptive.get(cause)?.inc();
    },

    schedulerLag(seconds) {
      if (Number.isFinite(seconds)) set.lag.observe(Math.max(0, seconds));
    },

    configReload(ok) {
      set.reloadOk.set(ok ? 1 : 0);
      (ok ? set.reloadSuccess : set.reloadFailure).inc();
    },
  };
}
