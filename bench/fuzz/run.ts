/**
 * `npm run bench:fuzz`: every input kind of bench/fuzz/kinds.ts, at least 10,000 generated cases
 * each (FUZZ_RUNS overrides; FUZZ_SEED picks the seed, default 13; FUZZ_KINDS=config,api picks
 * kinds), through the real entry
 * points. Prints per kind the count of each outcome and of contract violations (exceptions,
 * problems without a location, 500s), with the first few violations in full. Exit 1 on any.
 */
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { allKinds, FuzzViolation } from './kinds.js';

const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const seed = Number(process.env.FUZZ_SEED ?? 13);
const SHOW = 3;

async function main(): Promise<number> {
  const only = process.env.FUZZ_KINDS?.split(',').filter((k) => k !== '');
  const all = allKinds(process.cwd());
  const kinds = all.filter((k) => !only || only.includes(k.name));
  let violations = 0;
  console.log(`fuzz: ${runs} cases per input kind, seed ${seed}`);
  console.log('kind      cases  seconds  outcomes                                  violations');
  try {
    for (const kind of kinds) {
      const outcomes = new Map<string, number>();
      const shown: string[] = [];
      let bad = 0;
      const t0 = performance.now();
      // Generated in batches so the inputs of 10,000 cases are never all in memory.
      const batch = 500;
      for (let done = 0; done < runs; done += batch) {
        const inputs = fc.sample(kind.arbitrary, { numRuns: Math.min(batch, runs - done), seed: seed + done });
        for (const input of inputs) {
          try {
            const o = await kind.check(input);
            outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
          } catch (err) {
            bad++;
            const text = err instanceof FuzzViolation ? err.message : `harness: ${String(err)}`;
            if (shown.length < SHOW) shown.push(`${text}\n    input: ${JSON.stringify(input).slice(0, 600)}`);
          }
        }
      }
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      const summary = [...outcomes].map(([o, n]) => `${o}: ${n}`).join(', ');
      console.log(`${kind.name.padEnd(9)} ${String(runs).padStart(5)}  ${seconds.padStart(7)}  ${summary.padEnd(41)} ${bad}`);
      for (const s of shown) console.log(`  violation: ${s}`);
      violations += bad;
      kind.dispose();
    }
  } finally {
    for (const k of all) k.dispose();
  }
  console.log(violations === 0 ? 'fuzz: 0 violations' : `fuzz: ${violations} violations`);
  return violations === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
