/**
 * The prober for each target kind, and the one entry point the scheduler calls.
 */
import type { ResolvedTarget, TargetKind } from '../config/schema.js';
import { probeDns } from './dns.js';
import { probeDoh } from './doh.js';
import { probeDot } from './dot.js';
import { describeError } from './failure.js';
import { probeHttp } from './http.js';
import { probeIcmp } from './icmp.js';
import { probeTcp } from './tcp.js';
import { probeTls } from './tls.js';
import type { ProbeContext, ProbeResult, Prober } from './types.js';

export const PROBERS: { [K in TargetKind]: Prober<Extract<ResolvedTarget, { kind: K }>> } = {
  http: probeHttp,
  tcp: probeTcp,
  tls: probeTls,
  dns: probeDns,
  dot: probeDot,
  doh: probeDoh,
  icmp: probeIcmp,
};

function dispatch(target: ResolvedTarget, ctx: ProbeContext, probers: typeof PROBERS): Promise<ProbeResult> {
  // PROBERS' type pairs each kind with the prober of that kind's targets.
  const probe = probers[target.kind] as Prober;
  return probe(target, ctx);
}

/**
 * Probes `target` with the prober for its kind. Never rejects: should a prober throw or reject
 * (a bug), the result is ok: false, reason 'unknown', with the error as detail. `probers`
 * replaces the table (tests).
 */
export async function runProbe(target: ResolvedTarget, ctx: ProbeContext, probers: typeof PROBERS = PROBERS): Promise<ProbeResult> {
  const at = Date.now();
  const start = performance.now();
  try {
    return await dispatch(target, ctx, probers);
  } catch (err) {
    return {
      target: target.id,
      kind: target.kind,
      ok: false,
      reason: 'unknown',
      phases: { total: (performance.now() - start) / 1000 },
      ip: null,
      at,
      detail: `prober failed: ${describeError(err)}`,
    };
  }
}
