/**
 * A small simulated probe stream for detector tests: 60 s interval, 5 s confirm delay, 10 s
 * timeout; each target probed at its own seeded phase, a failed probe confirmed once.
 */
import { DetectionConfig, type ResolvedTarget } from '../../../src/config/schema.js';
import { Detector, type EventChange } from '../../../src/detect/detector.js';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import type { DetectorOptions } from '../../../src/detect/options.js';
import type { FailureReason } from '../../../src/probers/reasons.js';
import type { ProbeResult } from '../../../src/probers/types.js';

export const INTERVAL = 60_000;
export const CONFIRM = 5_000;
export const TIMEOUT_S = 10;
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const T0 = Date.UTC(2019, 5, 9, 0, 0, 0);
export const detection = DetectionConfig.parse({});

export type Outcome = { ok: true; slow?: number } | { ok: false; reason: FailureReason };
export type World = (id: string, at: number) => Outcome;

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function target(id: string, country: string, category: string, asn?: number, control = false): ResolvedTarget {
  return { id, kind: 'tcp', host: '127.0.0.1', port: 9, country, category, control, file: 'test', ...(asn === undefined ? {} : { asn }) };
}

export const TIMEOUTS = new Set<FailureReason>(['tcp_timeout', 'tls_timeout', 'http_timeout', 'dns_timeout', 'timeout']);

/**
 * Every target is probed every INTERVAL at its own (seeded) phase from `start` to `end`; a failure
 * gets one confirm re-probe CONFIRM after it completed. Results come out in observation order.
 */
export function simulate(targets: readonly ResolvedTarget[], world: World, start: number, end: number, seed = 1): ProbeResult[] {
  const rnd = mulberry32(seed);
  const out: { obs: number; r: ProbeResult }[] = [];
  const probe = (t: ResolvedTarget, at: number, base: number, confirm: boolean): number => {
    const o = world(t.id, at);
    const total = o.ok ? base * (o.slow ?? 1) * (0.9 + 0.2 * rnd()) : TIMEOUTS.has(o.reason) ? TIMEOUT_S : 0.02;
    const r: ProbeResult = { target: t.id, kind: t.kind, ok: o.ok, reason: o.ok ? null : o.reason, phases: { total }, ip: '127.0.0.1', at, ...(confirm ? { confirm } : {}) };
    const obs = at + total * 1000;
    out.push({ obs, r });
    return o.ok ? -1 : obs;
  };
  for (const [i, t] of targets.entries()) {
    const phase = Math.floor(rnd() * INTERVAL);
    const base = 0.03 + 0.01 * (i % 7);
    for (let at = start + phase; at < end; at += INTERVAL) {
      const failedAt = probe(t, at, base, false);
      if (failedAt >= 0) probe(t, failedAt + CONFIRM, base, true);
    }
  }
  out.sort((a, b) => a.obs - b.obs || (a.r.target < b.r.target ? -1 : a.r.target > b.r.target ? 1 : 0));
  return out.map((x) => x.r);
}

export interface Timed extends EventChange {
  evaluatedAt: number;
}

/** Same loop as replay(), but remembers at which evaluation each change came out. */
export function run(results: readonly ProbeResult[], opts: DetectorOptions, end: number, detector = new Detector(opts)): Timed[] {
  const every = opts.detection.evaluate_every;
  const out: Timed[] = [];
  let tick = Math.ceil(((results[0]?.at ?? end) + 1) / every) * every;
  const until = (t: number): void => {
    for (; tick <= t; tick += every) for (const c of detector.evaluate(tick)) out.push({ ...c, evaluatedAt: tick });
  };
  for (const r of results) {
    until(r.at + (r.phases.total ?? 0) * 1000);
    detector.observe(r);
  }
  until(end);
  return out;
}

export const opened = (cs: readonly EventChange[]): DisruptionEvent[] => cs.filter((c) => c.type === 'opened').map((c) => c.event);
export const closed = (cs: readonly EventChange[]): DisruptionEvent[] => cs.filter((c) => c.type === 'closed').map((c) => c.event);
export const ms = (iso: string | null): number => Date.parse(iso ?? '');
export const ok: Outcome = { ok: true };
export const fail = (reason: FailureReason): Outcome => ({ ok: false, reason });
export const during = (at: number, from: number, to: number): boolean => at >= from && at < to;

