/**
 * Sending a block's echoes (docs/blocks.md "Rounds"): the discovery of E(b), and one round's
 * probes of a block: one echo, then more at once while the verdict is uncertain, up to the
 * round's budget and the block's hour cap. The echoes go through the icmp prober's batching
 * fping runner (src/probers/icmp-fping.ts), paced by the instance's rate limiters.
 */
import type { Pinger } from '../probers/icmp.js';
import { blockAddress } from './block.js';
import type { BeliefModel } from './belief.js';
import { closeRound, nextAddress, observeEcho, openRound, takeHourSlot, wantsAdaptiveProbe, type BlockState } from './block-state.js';
import type { Exclusion } from './address-space.js';
import { paced, type RateLimiter } from './rate.js';

/** Why an echo went (lookout_block_probes_total{phase}). */
export type ProbePhase = 'discovery' | 'round' | 'adaptive';
export const PROBE_PHASES: readonly ProbePhase[] = ['discovery', 'round', 'adaptive'];

export interface ProbeDeps {
  pinger: Pinger;
  /** How long an echo waits for its reply (ms). */
  timeoutMs: number;
  /** Every echo takes a slot of each (the global cap). */
  limiters: readonly RateLimiter[];
  model: BeliefModel;
  /** Most probes per block per round. */
  roundBudget: number;
  /** Most probes per block per hour. */
  hourCap: number;
  /** Monotonic ms, for the hour cap. */
  now: () => number;
  /** Counts one echo sent. */
  sent: (phase: ProbePhase) => void;
  /** Told after each change of a block's verdict or availability (the block tally follows it). */
  changed: (s: BlockState) => void;
  /** Reports fping failing as a whole (not evidence about the block). */
  failed: (detail: string) => void;
  signal: AbortSignal;
}

/**
 * Learns E(b): echoes every address of the block once (the excluded ones never), paced at
 * the discovery rate on top of the global cap; the ones that answer are E(b). Null when fping
 * failed as a whole (the block stays undiscovered) or the stage stopped.
 */
export async function discoverBlock(s: BlockState, exclusion: Exclusion, discovery: RateLimiter, deps: ProbeDeps): Promise<number[] | null> {
  const echoes: Promise<number | null | 'error'>[] = [];
  const base = (s.entry.id << 8) >>> 0;
  for (let host = 0; host < 256; host++) {
    if (exclusion.has(base + host)) continue;
    await paced([discovery, ...deps.limiters], deps.signal);
    if (deps.signal.aborted) break;
    deps.sent('discovery');
    echoes.push(
      deps.pinger.echo(blockAddress(s.entry.id, host), deps.timeoutMs).then((o) => {
        if (o.kind === 'error') {
          deps.failed(o.detail);
          return 'error';
        }
        return o.kind === 'reply' ? host : null;
      }),
    );
  }
  const outcomes = await Promise.all(echoes);
  if (deps.signal.aborted || outcomes.includes('error')) return null;
  return outcomes.filter((h): h is number => typeof h === 'number');
}

/**
 * One round of a block: the round's echo, then adaptive echoes while uncertain (none for a
 * block `adaptive` is false for: one not monitored for its availability still gets its round
 * echo, which keeps A current). Updates the state as each outcome comes in.
 */
export async function probeRound(s: BlockState, adaptive: boolean, deps: ProbeDeps): Promise<void> {
  openRound(s);
  let phase: ProbePhase = 'round';
  while (!deps.signal.aborted && (phase === 'round' || (adaptive && wantsAdaptiveProbe(s, deps.roundBudget)))) {
    if (!takeHourSlot(s, deps.now(), deps.hourCap)) break;
    await paced(deps.limiters, deps.signal);
    if (deps.signal.aborted) return;
    s.roundProbes++;
    deps.sent(phase);
    const outcome = await deps.pinger.echo(blockAddress(s.entry.id, nextAddress(s)), deps.timeoutMs);
    if (outcome.kind === 'error') {
      deps.failed(outcome.detail);
      return;
    }
    observeEcho(s, outcome.kind === 'reply', deps.model);
    deps.changed(s);
    phase = 'adaptive';
  }
  closeRound(s);
  deps.changed(s);
}
