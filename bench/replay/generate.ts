/**
 * Probe streams for the simulated world, as the real scheduler and probers would have produced
 * them: every target probed once per interval at its own offset (epoch-aligned slots), a failed
 * regular probe followed by one confirm re-probe confirm_delay after its result arrived (unless
 * the next regular probe comes first), a blackholed probe failing with the kind's timeout reason
 * after exactly the timeout, and results ordered by observation time (at + total).
 *
 * Background noise on every target (controls included): random probe loss (a single probe times
 * out), latency jitter (log-normal around the target's median) and rare latency spikes (the probe
 * succeeds, many times slower). Plus the world's chronically dead targets (every probe refused)
 * and flapping targets (now and then down for a few probes in a row).
 */
import type { TargetKind } from '../../src/config/schema.js';
import type { FailureReason } from '../../src/probers/reasons.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { mulberry32, subSeed, type Rng } from './prng.js';
import { defaultPolicy, observedAt, runScheduleModel, type ModelRun, type ProbePlan } from './scheduler-model.js';
import { resolvedTargets, SCHEDULE, type SimTarget, type World } from './world.js';

export { observedAt } from './scheduler-model.js';

/** Targets of `country` (only those of `asn`, when not null) drop every packet in [from, to). */
export interface Blackout {
  country: string;
  asn: number | null;
  from: number;
  to: number;
}

export interface Noise {
  /** Probability that one probe is lost (times out) on its own. */
  loss: number;
  /** Probability that a successful probe is a latency spike. */
  spike: number;
  /** A spike multiplies the latency by a factor uniform in this range. */
  spikeFactor: readonly [number, number];
  /** Sigma of the log-normal latency jitter. */
  jitterSigma: number;
  /** Per regular probe of a flapping target that is up: probability that a down spell begins. */
  flapStart: number;
  /** A down spell lasts this many regular probes (uniform, inclusive). */
  flapProbes: readonly [number, number];
}

/** The noise the benchmark is specified with (1% loss, 0.5% spikes of 5-20x, flaps of 1-3 probes about every 10). */
export const DEFAULT_NOISE: Noise = {
  loss: 0.01,
  spike: 0.005,
  spikeFactor: [5, 20],
  jitterSigma: 0.25,
  flapStart: 0.1,
  flapProbes: [1, 3],
};

export interface GenerateOptions {
  world: World;
  /** Regular probes start at or after `from` and before `to` (epoch ms). */
  from: number;
  to: number;
  blackouts: readonly Blackout[];
  seed: number;
  /**
   * Shifts every probe slot by this much (ms, default 0). IODA times are 10-minute bins and the
   * scheduler's slots are fixed per target, so where an outage's true start falls within the
   * probe cycle is arbitrary: each outage row gets its own random phase.
   */
  phaseMs?: number;
  noise?: Noise;
  /** Adaptive probing with the daemon's policy and default budgets (src/scheduler/adaptive.ts); default true. */
  adaptive?: boolean;
}

/** The failure reason of a probe that got no answer within the timeout, per target kind. */
export const TIMEOUT_REASON: Record<TargetKind, FailureReason> = {
  http: 'http_timeout',
  tcp: 'tcp_timeout',
  tls: 'tls_timeout',
  dns: 'dns_timeout',
  // Encrypted DNS runs over TCP: a blackhole drops the SYNs.
  dot: 'tcp_timeout',
  doh: 'tcp_timeout',
  icmp: 'icmp_timeout',
};

/** All results of the window, in observation-time order (ties: world target order, regular before confirm). */
export function generateResults(opts: GenerateOptions): ProbeResult[] {
  return mergeByObservation(generateRun(opts).streams);
}

/** The scheduler model's run over the window: per-target streams and probe counts. */
export function generateRun(opts: GenerateOptions): ModelRun {
  const policy = opts.adaptive === false ? null : defaultPolicy(resolvedTargets(opts.world), opts.world.vantage.country);
  return runScheduleModel(
    opts.world.targets.map((sim) => targetPlan(sim, opts)),
    opts.from,
    opts.to,
    policy,
  );
}

/** Merges per-target streams into observation-time order (ties: stream order, then order within a stream). */
export function mergeByObservation(streams: readonly (readonly ProbeResult[])[]): ProbeResult[] {
  const keyed: { obs: number; seq: number; r: ProbeResult }[] = [];
  let seq = 0;
  for (const stream of streams) {
    for (const r of stream) keyed.push({ obs: observedAt(r), seq: seq++, r });
  }
  keyed.sort((a, b) => a.obs - b.obs || a.seq - b.seq);
  return keyed.map((k) => k.r);
}

/** How one target is probed: its offset and outcomes. */
function targetPlan(sim: SimTarget, opts: GenerateOptions): ProbePlan {
  const noise = opts.noise ?? DEFAULT_NOISE;
  const rng = mulberry32(subSeed(opts.seed, sim.target.id));
  const { interval, timeout } = SCHEDULE;
  const blackouts = sim.role === 'control' ? [] : opts.blackouts.filter((b) => b.country === sim.target.country && (b.asn === null || b.asn === sim.target.asn));
  const blackholed = (at: number): boolean => blackouts.some((b) => at >= b.from && at < b.to);
  let flapDownUntil = -Infinity;
  const probe = (at: number, confirm: boolean): ProbeResult => {
    let r: ProbeResult;
    if (blackholed(at) || at < flapDownUntil) r = failed(sim, at, TIMEOUT_REASON[sim.target.kind], timeout / 1000);
    else if (sim.role === 'dead') r = failed(sim, at, sim.target.kind === 'dns' ? 'dns_refused' : 'tcp_refused', rng.uniform(0.005, 0.05));
    else if (rng.chance(noise.loss)) r = failed(sim, at, TIMEOUT_REASON[sim.target.kind], timeout / 1000);
    else r = succeeded(sim, at, latency(sim, rng, noise, timeout));
    if (confirm) r.confirm = true;
    return r;
  };
  // A spell begins only after at least one regular probe outside a spell, so spells never chain
  // into one longer than flapProbes.
  let outsideSpell = false;
  const flap = (at: number): void => {
    if (sim.role !== 'flapping') return;
    if (at >= flapDownUntil && outsideSpell && rng.chance(noise.flapStart)) {
      // Down for n regular probes: through the confirm of the last one, back before the next.
      flapDownUntil = at + rng.int(noise.flapProbes[0], noise.flapProbes[1]) * interval - interval / 2;
    }
    outsideSpell = at >= flapDownUntil;
  };
  return { id: sim.target.id, offsetMs: (sim.offsetMs + (opts.phaseMs ?? 0)) % interval, probe, beforeRegular: flap };
}

function latency(sim: SimTarget, rng: Rng, noise: Noise, timeoutMs: number): number {
  let s = sim.baseLatencyS * Math.exp(noise.jitterSigma * rng.normal());
  if (rng.chance(noise.spike)) s *= rng.uniform(noise.spikeFactor[0], noise.spikeFactor[1]);
  return Math.min(s, timeoutMs / 1000 - 0.1);
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** The address a probe of the target dials (IPv6 without brackets). */
export function address(sim: SimTarget): string {
  const t = sim.target;
  const bare = (h: string): string => (h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h);
  if (t.kind === 'dns' || t.kind === 'dot') return bare(t.server.slice(0, t.server.lastIndexOf(':')));
  if (t.kind === 'http' || t.kind === 'doh') return t.ip ?? bare(new URL(t.url).hostname);
  if (t.kind === 'icmp') return t.host ?? t.hosts?.[0] ?? '';
  return t.host;
}

/** A successful probe of `totalS` seconds, with the phases the kind's prober reports. */
export function succeeded(sim: SimTarget, at: number, totalS: number): ProbeResult {
  const total = round6(totalS);
  const kind = sim.target.kind;
  const phases: ProbeResult['phases'] =
    kind === 'http' ? { connect: round6(total * 0.3), ttfb: round6(total * 0.9), total } : kind === 'dns' ? { total } : { connect: total, total };
  const r: ProbeResult = { target: sim.target.id, kind, ok: true, reason: null, phases, ip: address(sim), at };
  if (kind === 'http') r.status = 200;
  return r;
}

/** A failed probe with `reason` after `totalS` seconds. */
export function failed(sim: SimTarget, at: number, reason: FailureReason, totalS: number): ProbeResult {
  return { target: sim.target.id, kind: sim.target.kind, ok: false, reason, phases: { total: round6(totalS) }, ip: address(sim), at };
}
