import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PRIOR_AVAILABILITY, PRIOR_BELIEF, PRIOR_WEIGHT, TRINOCULAR_MODEL as M, updateAvailability, updateBelief, verdictOf } from '../../../src/blocks/belief.js';
import { closeRound, newBlockState, observeEcho, openRound, shuffled, wantsAdaptiveProbe, type BlockState } from '../../../src/blocks/block-state.js';

const belief = fc.double({ min: M.bound, max: 1 - M.bound, noNaN: true });
const availability = fc.double({ min: 0.05, max: 0.99, noNaN: true });

function block(addresses = 20, A = 0.8): BlockState {
  const s = newBlockState({ id: 0x7f0100, country: 'XA', asn: 64500, hitlist: Array.from({ length: addresses }, (_, i) => i + 1) });
  s.availability = A;
  s.observed = 100;
  return s;
}

/** Runs one round: the first echo, then adaptive echoes while uncertain; returns the probes sent. */
function round(s: BlockState, answers: (i: number) => boolean, budget = 15): number {
  openRound(s);
  do {
    s.roundProbes++;
    observeEcho(s, answers(s.roundProbes), M);
  } while (wantsAdaptiveProbe(s, budget));
  closeRound(s);
  return s.roundProbes;
}

describe('belief (Bayes with P(reply|up) = A)', () => {
  it('a reply never lowers the belief and a silence never raises it; it stays within its bounds', () => {
    fc.assert(
      fc.property(belief, availability, (b, a) => {
        const up = updateBelief(b, true, a, M);
        const down = updateBelief(b, false, a, M);
        expect(up).toBeGreaterThanOrEqual(b - 1e-12);
        expect(down).toBeLessThanOrEqual(b + 1e-12);
        for (const x of [up, down]) expect(x >= M.bound && x <= 1 - M.bound).toBe(true);
      }),
    );
  });

  it('a silence from a block of high availability is stronger evidence of down than from one of low availability', () => {
    fc.assert(
      fc.property(belief, availability, availability, (b, a1, a2) => {
        fc.pre(Math.abs(a1 - a2) > 1e-6);
        const [lo, hi] = a1 < a2 ? [a1, a2] : [a2, a1];
        expect(updateBelief(b, false, hi, M)).toBeLessThanOrEqual(updateBelief(b, false, lo, M) + 1e-12);
      }),
    );
  });

  it('one reply takes a block with no evidence to up; the thresholds are Trinocular 0.9 / 0.1', () => {
    expect(verdictOf(updateBelief(PRIOR_BELIEF, true, 0.5, M), M)).toBe('up');
    expect(verdictOf(0.95, M)).toBe('up');
    expect(verdictOf(0.05, M)).toBe('down');
    expect(verdictOf(0.5, M)).toBe('uncertain');
  });

  it('a block that stops answering reads down within one round budget when its availability is at least 0.6', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.6, max: 0.99, noNaN: true }), (a) => {
        const s = block(20, a);
        round(s, () => true);
        expect(s.verdict).toBe('up');
        const sent = round(s, () => false);
        expect(s.verdict).toBe('down');
        expect(sent).toBeLessThanOrEqual(15);
      }),
    );
  });

  it('an up block that answers gets one probe a round; the budget bounds every round', () => {
    fc.assert(
      fc.property(availability, fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 15 }), (a, pattern, budget) => {
        const s = block(20, a);
        round(s, () => true);
        expect(round(s, () => true)).toBe(1);
        expect(round(s, (i) => pattern[i % pattern.length] as boolean, budget)).toBeLessThanOrEqual(budget);
      }),
    );
  });

  it('a down block that answers again reads up within the round; one that stays dark gets one probe a round', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.3, max: 0.99, noNaN: true }), (a) => {
        const s = block(20, a);
        for (let i = 0; i < 5; i++) round(s, () => true);
        round(s, () => false);
        round(s, () => false);
        expect(s.verdict).toBe('down');
        expect(round(s, () => false)).toBe(1);
        round(s, () => true);
        expect(s.verdict).toBe('up');
      }),
    );
  });

  it('a silence is followed up at once, and the first reply ends the round', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 0.9, noNaN: true }), (a) => {
        const s = block(20, a);
        round(s, () => true);
        expect(round(s, (i) => i >= 3)).toBe(3);
        expect(s.verdict).toBe('up');
      }),
    );
  });

  it('three lost echoes in a row (5% loss) do not take a confident block of any availability down', () => {
    fc.assert(
      fc.property(availability, (a) => {
        const s = block(20, a);
        for (let i = 0; i < 10; i++) round(s, () => true);
        round(s, (i) => i > 3);
        expect(s.verdict).not.toBe('down');
      }),
    );
  });
});

describe('the order of E(b)', () => {
  it('is a permutation, fixed per block, and rarely address order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 256 }), fc.integer({ min: 0, max: 2 ** 24 - 1 }), (list, seed) => {
        const out = shuffled(list, seed);
        expect([...out].sort((a, b) => a - b)).toEqual([...list].sort((a, b) => a - b));
        expect(shuffled(list, seed)).toEqual(out);
      }),
    );
    const inOrder = Array.from({ length: 16 }, (_, i) => i + 1);
    const kept = Array.from({ length: 200 }, (_, seed) => shuffled(inOrder, seed)).filter((o) => o.join() === inOrder.join());
    expect(kept).toHaveLength(0);
  });
});

describe('availability estimate', () => {
  it('is the mean of the echoes and the prior (worth PRIOR_WEIGHT echoes) over its first window', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 95 }), (echoes) => {
        let st = { availability: PRIOR_AVAILABILITY, observed: 0 };
        for (const r of echoes) st = updateAvailability(st.availability, st.observed, r);
        const mean = (echoes.filter(Boolean).length + PRIOR_WEIGHT * PRIOR_AVAILABILITY) / (echoes.length + PRIOR_WEIGHT);
        expect(st.availability).toBeCloseTo(mean, 9);
        expect(st.observed).toBe(echoes.length);
      }),
    );
  });

  it('a round that does not end up leaves the availability as it was, however many silences it had', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.6, max: 0.99, noNaN: true }), fc.integer({ min: 0, max: 30 }), (a, observed) => {
        const s = block(20, a);
        s.observed = observed;
        round(s, () => true);
        const before = s.availability;
        round(s, () => false);
        expect(s.verdict).toBe('down');
        expect(s.availability).toBe(before);
      }),
    );
  });

  it('a round that ends up counts its silences and its reply', () => {
    const s = block(20, 0.5);
    s.observed = 0;
    round(s, (i) => i === 3);
    expect(s.verdict).toBe('up');
    expect(s.observed).toBe(3);
    expect(s.availability).toBeCloseTo((1 + PRIOR_WEIGHT * 0.5) / (3 + PRIOR_WEIGHT), 9);
  });
});
