import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { apiKind } from '../../../bench/fuzz/kinds.js';

// A fixed-seed sample of the api fuzzer (bench/fuzz, `npm run bench:fuzz` runs 10,000+ cases).
// A failure prints the shrunk input and the violated contract.
const kind = apiKind();

afterAll(() => kind.dispose());

describe('fuzz: api', () => {
  it('3000 generated inputs, fixed seed: never an exception', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(kind.arbitrary, async (input) => {
        await kind.check(input);
      }),
      { numRuns: 3000, seed: 1313 },
    );
  });
});
