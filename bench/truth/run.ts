/**
 * CLI of the ground-truth benchmark. Build and run from the repository root:
 *
 *   npm run bench:truth -- [--worlds N] [--seed N] [--show N] [--verbose]
 *
 * --worlds N (default 1000) runs worlds seed..seed+N-1; --seed N (default 1); --show N lists at
 * most N mismatch lines (default 100; the counts are complete); --verbose prints every world's
 * faults, labels and events (use with --worlds 1 to reproduce one world).
 */
import { cpus } from 'node:os';
import { baseOf, describeEpisode, describeLabel, describeWorld, runTruthBench, type WorldRun } from './bench.js';
import { formatTruthReport } from './table.js';

interface Args {
  worlds: number;
  seed: number;
  show: number;
  verbose: boolean;
}

const USAGE = 'usage: run.js [--worlds N] [--seed N] [--show N] [--verbose]';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { worlds: 1000, seed: 1, show: 100, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--verbose') {
      args.verbose = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag}: missing value\n${USAGE}`);
    if (!/^\d+$/.test(value)) throw new Error(`${flag}: expected a non-negative integer, got "${value}"`);
    const n = Number(value);
    if (flag === '--worlds') args.worlds = Math.max(1, n);
    else if (flag === '--seed') args.seed = n;
    else if (flag === '--show') args.show = n;
    else throw new Error(`unknown flag ${flag}\n${USAGE}`);
  }
  return args;
}

function verbose(run: WorldRun): void {
  const base = baseOf(run);
  const lines = [`seed ${run.world.seed} ${describeWorld(run)}`, `  ${run.results} results; times relative to the first fault start (or the warm-up end)`];
  for (const t of run.world.targets.filter((x) => x.noise !== 'none' || x.cdn)) {
    lines.push(`  noise: ${t.target.id} ${t.cdn ? 'cdn' : t.noise}${t.noiseFrom !== null ? ` ${Math.round((t.noiseFrom - base) / 1000)}s..${Math.round(((t.noiseTo ?? 0) - base) / 1000)}s` : ''}`);
  }
  for (const l of run.labels) lines.push(`  label: ${describeLabel(l, base)}`);
  for (const ep of run.episodes) lines.push(`  event: ${describeEpisode(ep, base)}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function main(): void {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(`Machine: ${cpu}, ${cpus().length} logical CPUs, Node ${process.version}\n`);
  let done = 0;
  const report = runTruthBench({
    seed: args.seed,
    worlds: args.worlds,
    onWorld: (run) => {
      if (args.verbose) verbose(run);
      else if (++done % 500 === 0) process.stderr.write(`${done} worlds\n`);
    },
  });
  process.stdout.write(formatTruthReport(report, args.show));
}

main();
