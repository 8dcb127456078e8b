import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { replayKind } from '../../../bench/fuzz/kinds.js';

// A fixed-seed sample of the replay fuzzer (bench/fuzz, `npm run bench:fuzz` runs 10,000+ cases).
// A failure prints the shrunk input and the violated contract.
const kind = replayKind();

afterAll(() => kind.dispose());

describe('fuzz: replay', () => {
  it('200 generated inputs, fixed seed: never an exception', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(kind.arbitrary, async (input) => {
        await kind.check(input);
      }),
      { numRuns: 200, seed: 1313 },
    );
  });
});
