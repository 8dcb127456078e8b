import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { scenarioKind } from '../../../bench/fuzz/kinds.js';

// A fixed-seed sample of the scenario fuzzer (bench/fuzz, `npm run bench:fuzz` runs 10,000+ cases).
// A failure prints the shrunk input and the violated contract.
const ROOT = resolve(import.meta.dirname, '../../..');
const kind = scenarioKind(ROOT);

afterAll(() => kind.dispose());

describe('fuzz: scenario', () => {
  it('300 generated inputs, fixed seed: never an exception', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(kind.arbitrary, async (input) => {
        await kind.check(input);
      }),
      { numRuns: 300, seed: 1313 },
    );
  });
});
