/**
 * Trackers put straight into a state, and the RuleContext one evaluation would give the rules:
 * for testing one rule at a time without a probe stream.
 */
import { DetectionConfig, type ResolvedTarget } from '../../../../src/config/schema.js';
import { GroupIndex } from '../../../../src/detect/groups.js';
import { categoryPool, type RuleContext } from '../../../../src/detect/rules/common.js';
import { TargetTracker } from '../../../../src/detect/target-state.js';
import type { FailureReason } from '../../../../src/probers/reasons.js';

export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
export const s = DetectionConfig.parse({});

export interface TrackerSpec {
  asn?: number;
  control?: boolean;
  /** Down since `since` (ms before NOW, default 120 s) with this reason. */
  down?: FailureReason;
  since?: number;
  /** Up with this latency ratio; `slowFor` ms: its latest samples slow that long. */
  ratio?: number;
  slowFor?: number;
  /** Latest success this long before NOW (default 5 s). */
  okAgo?: number;
  /** Never seen up: reported failures only (start-up). */
  neverUp?: boolean;
}

export function tracker(id: string, country: string, category: string, spec: TrackerSpec = {}): TargetTracker {
  const target: ResolvedTarget = {
    id,
    kind: 'tcp',
    host: '127.0.0.1',
    port: 9,
    country,
    category,
    control: spec.control ?? false,
    file: 'test',
    ...(spec.asn === undefined ? {} : { asn: spec.asn }),
  };
  const t = new TargetTracker(target, 3_600_000);
  if (spec.down !== undefined) {
    const since = NOW - (spec.since ?? 120_000);
    t.state = 'down';
    t.failStreak = 2;
    t.failStart = since;
    t.lastFailAt = NOW - 10_000;
    t.lastReason = spec.down;
    t.latestOk = false;
    if (!spec.neverUp) {
      t.lastOkAt = since - 60_000;
      t.lastUpAt = since - 60_000;
    }
    return t;
  }
  t.state = 'up';
  t.okStreak = 5;
  t.latestOk = true;
  t.lastOkAt = NOW - (spec.okAgo ?? 5_000);
  t.lastUpAt = t.lastOkAt;
  if (spec.ratio !== undefined) {
    t.baseline.ratio = spec.ratio;
    if (spec.slowFor !== undefined) t.baseline.slowSince = NOW - spec.slowFor;
  }
  return t;
}

/** Every tracker counts as eligible unless it was never seen up. */
export function context(trackers: readonly TargetTracker[], home?: string): RuleContext {
  const index = new GroupIndex(trackers, { id: 'v', ...(home === undefined ? {} : { country: home }) });
  trackers.forEach((t, i) => {
    if (t.lastUpAt === null) return;
    for (const g of index.membership[i] ?? []) g.add(t, s.degradation_latency_ratio);
  });
  return { index, s, home, excused: () => false, blocked: new Map(), pool: categoryPool(index, home) };
}

/** n trackers `${prefix}-i` of one country and category. */
export function many(n: number, prefix: string, country: string, category: string, spec: TrackerSpec = {}): TargetTracker[] {
  return Array.from({ length: n }, (_, i) => tracker(`${prefix}-${i}`, country, category, spec));
}
