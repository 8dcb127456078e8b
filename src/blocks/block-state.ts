/**
 * What is known of one block: its responsive addresses E(b), availability A(E(b)), belief and
 * verdict, and the probes it got this round and this hour. The functions here decide; the
 * block prober sends. Pure apart from mutating the state they are given.
 */
import type { BlockEntry } from './address-space.js';
import { PRIOR_AVAILABILITY, PRIOR_BELIEF, updateAvailability, updateBelief, verdictOf, type BeliefModel, type BlockVerdict } from './belief.js';
import { mix32 } from './shard.js';

export interface BlockState {
  readonly entry: BlockEntry;
  /**
   * E(b): last octets of the addresses that answered (discovery or hitlist), in a per-block
   * pseudo-random order (setAddresses); null until discovered. Bytes, not numbers: at 100,000
   * blocks a number[] of E(b) was most of the memory (8 bytes an address, 1 here).
   */
  addresses: Uint8Array | null;
  availability: number;
  /** Echoes counted into `availability`. */
  observed: number;
  belief: number;
  verdict: BlockVerdict;
  /** This round's echoes and replies, folded into the availability when the round ends up. */
  roundEchoes: number;
  roundReplies: number;
  /** Whether the last echo was answered (true before any). */
  lastReplied: boolean;
  /** Next index into `addresses` to probe. */
  cursor: number;
  /** Probes of the current round. */
  roundProbes: number;
  /** The hour window's start (ms) and its probes, for the per-block cap. */
  hourStart: number;
  hourProbes: number;
  /** Where the block tally (block-tally.ts) counts it now; null before it was counted. */
  tallied: Standing | null;
}

/** Why a block is not monitored (lookout_blocks_unmonitored{reason}). */
export type UnmonitoredReason = 'undiscovered' | 'sparse' | 'low_availability';
export const UNMONITORED_REASONS: readonly UnmonitoredReason[] = ['undiscovered', 'sparse', 'low_availability'];

/** Where a block is counted: its verdict when monitored, else why it is not. */
export type Standing = BlockVerdict | UnmonitoredReason;

/** Echoes counted before a block's availability may rule it out. */
export const AVAILABILITY_MIN_OBSERVED = 20;

export interface Eligibility {
  /** Fewest responsive addresses of a monitored block. */
  minResponsive: number;
  /** Lowest availability of a monitored block. */
  minAvailability: number;
}

export function newBlockState(entry: BlockEntry, known?: { addresses: ArrayLike<number>; availability: number; observed: number }): BlockState {
  const list = known?.addresses ?? entry.hitlist;
  return {
    entry,
    addresses: list ? Uint8Array.from(shuffled(list, entry.id)) : null,
    availability: known?.availability ?? PRIOR_AVAILABILITY,
    observed: known?.observed ?? 0,
    belief: PRIOR_BELIEF,
    verdict: 'uncertain',
    roundEchoes: 0,
    roundReplies: 0,
    lastReplied: true,
    cursor: mix32(entry.id) % 256,
    roundProbes: 0,
    hourStart: -Infinity,
    hourProbes: 0,
    tallied: null,
  };
}

/**
 * The list in a pseudo-random order fixed by `seed` (Fisher-Yates on a hash chain). Echoes go
 * round E(b) in this order, as Trinocular probes E(b) in a pseudo-random order: the addresses
 * that answer are often neighbours (one DHCP pool), and going round them in address order
 * would meet the silent ones in long runs, which read as an outage.
 */
export function shuffled(list: ArrayLike<number>, seed: number): number[] {
  const out = Array.from(list);
  let h = seed;
  for (let i = out.length - 1; i > 0; i--) {
    h = mix32(h + i);
    const j = h % (i + 1);
    [out[i], out[j]] = [out[j] as number, out[i] as number];
  }
  return out;
}

/** Sets E(b) (from discovery), in the block's pseudo-random order. */
export function setAddresses(s: BlockState, list: ArrayLike<number>): void {
  s.addresses = Uint8Array.from(shuffled(list, s.entry.id));
}

/** Null when the block is monitored, else why not. */
export function unmonitoredReason(s: BlockState, e: Eligibility): UnmonitoredReason | null {
  if (s.addresses === null) return 'undiscovered';
  if (s.addresses.length < e.minResponsive) return 'sparse';
  if (s.observed >= AVAILABILITY_MIN_OBSERVED && s.availability < e.minAvailability) return 'low_availability';
  return null;
}

/** The next address to probe (last octet), going round E(b) from a per-block starting point. */
export function nextAddress(s: BlockState): number {
  const list = s.addresses ?? [];
  const host = list[s.cursor % list.length] as number;
  s.cursor = (s.cursor + 1) % Math.max(1, list.length);
  return host;
}

/** Starts a block's round. */
export function openRound(s: BlockState): void {
  s.roundProbes = 0;
  s.roundEchoes = 0;
  s.roundReplies = 0;
}

/**
 * Ends a block's round: its echoes count into the availability only when the round ended with
 * the block up. An outage says nothing of how a live block's addresses answer, and learning from
 * the silences of a block going dark would lower A, which weakens each silence as evidence, which
 * takes more silences: a spiral that would rule blocks out for low availability at every cut.
 */
export function closeRound(s: BlockState): void {
  if (s.verdict !== 'up') return;
  for (let i = 0; i < s.roundEchoes; i++) Object.assign(s, updateAvailability(s.availability, s.observed, i < s.roundReplies));
}

/** Whether the hour cap lets the block have one more probe at `now` (ms); counts it when so. */
export function takeHourSlot(s: BlockState, now: number, cap: number): boolean {
  if (now - s.hourStart >= 3_600_000) {
    s.hourStart = now;
    s.hourProbes = 0;
  }
  if (s.hourProbes >= cap) return false;
  s.hourProbes++;
  return true;
}

/** Takes one echo's outcome into the belief and the verdict, and into the round's tally. */
export function observeEcho(s: BlockState, replied: boolean, model: BeliefModel): void {
  s.roundEchoes++;
  if (replied) s.roundReplies++;
  s.lastReplied = replied;
  s.belief = updateBelief(s.belief, replied, s.availability, model);
  s.verdict = verdictOf(s.belief, model);
}

/**
 * Whether the round should send this block another probe at once, while budget is left: when
 * the block is uncertain, when it is up but its last echo went unanswered, or when it is down
 * but its last echo was answered. A reply ends an up block's round, so an up block costs about
 * 1 / A probes a round; a silence is followed up at once, so a block that went dark is read
 * down within the round instead of over several (from a confident belief one silence leaves
 * the block above the up threshold); and once a down block answered in a round it is probed on
 * until it reads up or the budget is spent, so a recovery is read within the round too. A down
 * block that stays silent gets one probe a round.
 */
export function wantsAdaptiveProbe(s: BlockState, roundBudget: number): boolean {
  if (s.roundProbes >= roundBudget) return false;
  if (s.verdict === 'uncertain') return true;
  return s.verdict === 'up' ? !s.lastReplied : s.roundReplies > 0;
}
