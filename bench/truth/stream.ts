/**
 * Probe streams of a ground-truth world, as the scheduler and probers would produce them: the
 * replay benchmark's scheduler model (bench/replay/scheduler-model.ts: regular probe per interval
 * at the target's offset, one confirm re-probe 5 s after a failed regular probe, and the daemon's
 * adaptive probing through its own policy) with outcomes decided here, in this order:
 *
 * 1. a fault effect failing the target: its mechanism's reason (README.md, "Reasons");
 * 2. noise: dead (refused, always), maintenance (timeouts in its window), flapping (down for
 *    1-3 regular probes now and then, never chained);
 * 3. probe loss (1-3% of regular probes time out; the confirm re-probe of a lost probe is not
 *    lost, so loss alone never takes a target down);
 * 4. success: the target's median latency x the country's diurnal factor (1 up to 2x, 24 h cycle)
 *    x jitter (log-normal, clamped to [0.7, 1.4]) x a rare spike (0.5%, 5-20x, never twice in
 *    three probes, so a median of three never sees one) x slow noise x throttling.
 */
import type { FailureReason } from '../../src/probers/reasons.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { failed, mergeByObservation, succeeded, TIMEOUT_REASON } from '../replay/generate.js';
import { defaultPolicy, runScheduleModel, type ModelRun, type ProbePlan } from '../replay/scheduler-model.js';
import { mulberry32, subSeed, type Rng } from '../replay/prng.js';
import { SCHEDULE } from '../replay/world.js';
import type { Effect, Fault } from './faults.js';
import type { TruthTarget, TruthWorld } from './world.js';

const DAY_MS = 86_400_000;

/** A blocking's failure: reason, seconds until it, HTTP status. */
function blockFailure(mechanism: Exclude<Effect['fail'], null>, t: TruthTarget, rng: Rng): { reason: FailureReason; total: number; status?: number } {
  const kind = t.target.kind;
  const quick = (): number => rng.uniform(0.01, 0.2);
  switch (mechanism) {
    case 'blackhole':
      return { reason: TIMEOUT_REASON[kind], total: SCHEDULE.timeout / 1000 };
    case 'unreachable':
      return { reason: 'network_unreachable', total: rng.uniform(0.001, 0.01) };
    case 'dns':
      return { reason: kind === 'dns' && rng.chance(0.5) ? 'dns_bogon_answer' : 'dns_nxdomain', total: quick() };
    case 'tcp_reset':
      return { reason: kind === 'http' ? 'http_reset' : 'tcp_reset', total: quick() };
    case 'tls':
      return { reason: rng.chance(0.5) ? 'tls_reset' : 'tls_alert', total: quick() };
    case 'http':
      return rng.chance(0.5) ? { reason: 'http_blockpage', total: quick(), status: 200 } : { reason: 'http_status', total: quick(), status: 451 };
  }
}

function diurnal(world: TruthWorld, country: string, at: number): number {
  const peak = world.diurnal.peakMs.get(country) ?? 0;
  const phase = (2 * Math.PI * (((at - peak) % DAY_MS) + DAY_MS)) / DAY_MS;
  return 1 + ((world.diurnal.amplitude - 1) * (1 + Math.cos(phase))) / 2;
}

/** How one target is probed: its offset and outcomes. */
function targetPlan(world: TruthWorld, t: TruthTarget, effects: readonly Effect[]): ProbePlan {
  const rng = mulberry32(subSeed(world.seed, `stream:${t.target.id}`));
  const mine = effects.filter((e) => e.ids.has(t.target.id));
  const timeout = SCHEDULE.timeout / 1000;
  let flapDownUntil = -Infinity;
  let outsideSpell = false;
  let probesSinceSpike = Infinity;
  const probe = (at: number, confirm: boolean): ProbeResult => {
    const active = mine.filter((e) => at >= e.from && at < e.to);
    const failing = active.find((e) => e.fail !== null);
    let r: ProbeResult;
    if (failing?.fail) {
      const f = blockFailure(failing.fail, t, rng);
      r = failed(t, at, f.reason, f.total);
      if (f.status !== undefined) r.status = f.status;
    } else if (t.noise === 'dead') r = failed(t, at, t.target.kind === 'dns' ? 'dns_refused' : 'tcp_refused', rng.uniform(0.005, 0.05));
    else if (t.noise === 'maintenance' && at >= (t.noiseFrom ?? 0) && at < (t.noiseTo ?? 0)) r = failed(t, at, TIMEOUT_REASON[t.target.kind], timeout);
    else if (at < flapDownUntil) r = failed(t, at, TIMEOUT_REASON[t.target.kind], timeout);
    else if (!confirm && rng.chance(world.loss)) r = failed(t, at, TIMEOUT_REASON[t.target.kind], timeout);
    else {
      let s = t.baseLatencyS * diurnal(world, t.target.country, at) * Math.min(1.4, Math.max(0.7, Math.exp(0.2 * rng.normal())));
      probesSinceSpike++;
      if (probesSinceSpike >= 3 && rng.chance(0.005)) {
        s *= rng.uniform(5, 20);
        probesSinceSpike = 0;
      }
      if (t.noise === 'slow' && at >= (t.noiseFrom ?? 0) && at < (t.noiseTo ?? 0)) s *= 5;
      for (const e of active) if (e.slow !== null) s *= e.slow;
      r = succeeded(t, at, Math.min(s, timeout - 0.1));
    }
    if (confirm) r.confirm = true;
    return r;
  };
  // A flapping spell begins only after a regular probe outside a spell (never chained).
  const flap = (at: number): void => {
    if (t.noise !== 'flapping') return;
    if (at >= flapDownUntil && outsideSpell && rng.chance(0.05)) flapDownUntil = at + rng.int(1, 3) * SCHEDULE.interval - SCHEDULE.interval / 2;
    outsideSpell = at >= flapDownUntil;
  };
  return { id: t.target.id, offsetMs: t.offsetMs, probe, beforeRegular: flap };
}

/** All results of the world, in observation-time order, and the model's probe counts. */
export function worldRun(world: TruthWorld, faults: readonly Fault[], adaptive = true): { results: ProbeResult[]; scheduled: number; extra: number } {
  const effects = faults.flatMap((f) => f.effects);
  const targets = world.targets.map((t) => t.target);
  const run: ModelRun = runScheduleModel(
    world.targets.map((t) => targetPlan(world, t, effects)),
    world.from,
    world.to,
    adaptive ? defaultPolicy(targets, world.vantage.country) : null,
  );
  return { results: mergeByObservation(run.streams), scheduled: run.scheduled, extra: run.extra };
}

/** All results of the world, in observation-time order. */
export function worldResults(world: TruthWorld, faults: readonly Fault[]): ProbeResult[] {
  return worldRun(world, faults).results;
}
