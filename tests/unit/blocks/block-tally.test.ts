import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRINOCULAR_MODEL as M } from '../../../src/blocks/belief.js';
import { closeRound, newBlockState, observeEcho, openRound, setAddresses, unmonitoredReason, UNMONITORED_REASONS, type BlockState, type Eligibility } from '../../../src/blocks/block-state.js';
import { BlockTally } from '../../../src/blocks/block-tally.js';
import { countGroups } from '../../../src/blocks/signals.js';

const ELIGIBLE: Eligibility = { minResponsive: 4, minAvailability: 0.3 };

/** What walking every block counts: the reference the tally must always equal. */
function walk(states: readonly BlockState[]) {
  const unmonitored = Object.fromEntries(UNMONITORED_REASONS.map((r) => [r, 0]));
  const readings = states.map((s) => {
    const why = unmonitoredReason(s, ELIGIBLE);
    if (why !== null) unmonitored[why] = (unmonitored[why] ?? 0) + 1;
    return { country: s.entry.country, asn: s.entry.asn, verdict: why === null ? s.verdict : null };
  });
  return { ...countGroups(readings), unmonitored, monitored: readings.filter((r) => r.verdict !== null).length };
}

const nonZero = (m: ReadonlyMap<string, { monitored: number }>) => new Map([...m].filter(([, c]) => c.monitored > 0));

/** One step of a block's life: an echo's outcome, a round's end, or discovery setting E(b). */
const step = fc.oneof(
  fc.record({ kind: fc.constant('echo' as const), block: fc.nat(11), replied: fc.boolean() }),
  fc.record({ kind: fc.constant('close' as const), block: fc.nat(11) }),
  fc.record({ kind: fc.constant('discover' as const), block: fc.nat(11), size: fc.integer({ min: 0, max: 8 }) }),
);

describe('the block tally', () => {
  it('always equals a walk over every block, whatever verdicts, availabilities and discoveries come', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const states = Array.from({ length: 12 }, (_, i) =>
          newBlockState({ id: 0x7f0000 + i, country: i % 3 === 0 ? null : i % 2 ? 'XA' : 'XB', asn: i % 4 === 0 ? null : 64500 + (i % 3), hitlist: i < 6 ? [1, 2, 3, 4, 5] : null }),
        );
        const tally = new BlockTally(ELIGIBLE);
        for (const s of states) tally.update(s);
        for (const st of steps) {
          const s = states[st.block] as BlockState;
          if (st.kind === 'discover') setAddresses(s, Array.from({ length: st.size }, (_, h) => h));
          else if (s.addresses === null) continue;
          else if (st.kind === 'echo') {
            if (s.roundEchoes === 0) openRound(s);
            observeEcho(s, st.replied, M);
          } else {
            closeRound(s);
            openRound(s);
          }
          tally.update(s);
        }
        const ref = walk(states);
        expect(tally.monitored).toBe(ref.monitored);
        expect(tally.unmonitored).toEqual(ref.unmonitored);
        expect(nonZero(tally.countries)).toEqual(ref.countries);
        expect(nonZero(tally.asns)).toEqual(ref.asns);
      }),
    );
  });

  it('counts a block once however often it is told of it', () => {
    const s = newBlockState({ id: 0x7f0001, country: 'XA', asn: 64500, hitlist: [1, 2, 3, 4] });
    const tally = new BlockTally(ELIGIBLE);
    for (let i = 0; i < 3; i++) tally.update(s);
    expect(tally.countries.get('XA')).toEqual({ monitored: 1, up: 0, down: 0, uncertain: 1 });
    openRound(s);
    observeEcho(s, true, M);
    tally.update(s);
    expect(tally.countries.get('XA')).toEqual({ monitored: 1, up: 1, down: 0, uncertain: 0 });
    expect(tally.asns.get('64500')).toEqual({ monitored: 1, up: 1, down: 0, uncertain: 0 });
  });
});
