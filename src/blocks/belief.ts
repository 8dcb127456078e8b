/**
 * The belief that a block is up, Trinocular's way (Quan, Heidemann, Pradkin, SIGCOMM 2013;
 * docs/blocks.md "Belief"): each echo to one of the block's responsive addresses E(b) is
 * evidence, weighed by Bayes' rule with P(reply | up) = A, the block's availability (the share
 * of echoes to E(b) that a live block answers), and a small P(reply | down). Pure functions.
 */

export type BlockVerdict = 'up' | 'down' | 'uncertain';

export interface BeliefModel {
  /** P(reply | down): a reply a down block should not give (a stray or misrouted answer). */
  replyWhenDown: number;
  /** Up when the belief is above this. */
  upAbove: number;
  /** Down when the belief is below this. */
  downBelow: number;
  /** Beliefs stay within [bound, 1 - bound], so that evidence can always move them. */
  bound: number;
  /**
   * The availability used is at most this: even a block whose addresses always answered is
   * not taken to answer surely, so that a few lost echoes in a row (random loss) do not read
   * as an outage; at 0.95, four silences in a row take a confident block down.
   */
  maxAvailability: number;
}

/** Trinocular's thresholds (up above 0.9, down below 0.1); the other two are ours (docs/blocks.md). */
export const TRINOCULAR_MODEL: BeliefModel = { replyWhenDown: 0.01, upAbove: 0.9, downBelow: 0.1, bound: 0.001, maxAvailability: 0.95 };

/** Where a block with no evidence yet starts. */
export const PRIOR_BELIEF = 0.5;

function clamp(x: number, bound: number): number {
  return Math.min(1 - bound, Math.max(bound, x));
}

/** The belief after one echo: replied or not, to a block of availability `availability`. */
export function updateBelief(belief: number, replied: boolean, availability: number, model: BeliefModel): number {
  const a = Math.min(model.maxAvailability, Math.max(0.01, availability));
  const ifUp = replied ? a : 1 - a;
  const ifDown = replied ? model.replyWhenDown : 1 - model.replyWhenDown;
  const up = belief * ifUp;
  return clamp(up / (up + (1 - belief) * ifDown), model.bound);
}

/** up, down or uncertain for a belief. */
export function verdictOf(belief: number, model: BeliefModel): BlockVerdict {
  if (belief > model.upAbove) return 'up';
  if (belief < model.downBelow) return 'down';
  return 'uncertain';
}

/**
 * The availability estimate is a running mean over its first AVAILABILITY_WINDOW echoes (the
 * prior counting as PRIOR_WEIGHT of them), an exponential average after.
 */
export const AVAILABILITY_WINDOW = 100;

/**
 * Echoes the prior is worth (2): one early reply must not make A 1 (a block where a quarter of
 * E(b) answers, read after one lucky reply as always answering, is read down by the next few
 * silences).
 */
export const PRIOR_WEIGHT = 2;

/**
 * Availability assumed before any echo of the block was counted: the lowest a monitored block
 * may have (Trinocular's 0.1). Silences then weigh little until A is measured, so a sparse
 * block is not read down in its first rounds (with a prior of 0.5, a block where a quarter of
 * E(b) answers went down before its first reply, and stayed down: A learns only from rounds
 * that end up). A real outage at start reads uncertain until the block was once seen up.
 */
export const PRIOR_AVAILABILITY = 0.1;

/** The availability after one more echo to E(b). */
export function updateAvailability(availability: number, observed: number, replied: boolean): { availability: number; observed: number } {
  const n = Math.min(observed + PRIOR_WEIGHT + 1, AVAILABILITY_WINDOW);
  return { availability: availability + ((replied ? 1 : 0) - availability) / n, observed: observed + 1 };
}
