/**
 * CLI of the replay benchmark. Build and run from the repository root:
 *
 *   npx tsc -p tsconfig.bench.json && node .bench-build/bench/replay/run.js [flags]
 *
 * Flags: --data PATH (IODA outage CSV; default bench/data/ioda-outages-2018-2022.csv in the
 * repository), --rows N (only the first N country/AS rows), --quiet-days N (default 30),
 * --seed N (default 1), --throughput-countries N (default 20; 0 skips the throughput figures),
 * --throughput-days N (default 3), --runs N (timed replays per throughput figure, default 3).
 * Prints the report to stdout.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runBench } from './bench.js';
import { defaultDataPath, findRepoRoot, loadOutages } from './ioda.js';
import { formatReport } from './table.js';

interface Args {
  data: string;
  rows: number | undefined;
  quietDays: number;
  seed: number;
  throughputCountries: number;
  throughputDays: number;
  runs: number;
}

const USAGE = 'usage: run.js [--data PATH] [--rows N] [--quiet-days N] [--seed N] [--throughput-countries N] [--throughput-days N] [--runs N]';

function parseArgs(argv: readonly string[], repoRoot: string): Args {
  const args: Args = { data: defaultDataPath(repoRoot), rows: undefined, quietDays: 30, seed: 1, throughputCountries: 20, throughputDays: 3, runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag}: missing value\n${USAGE}`);
    i++;
    const count = (): number => {
      if (!/^\d+$/.test(value)) throw new Error(`${flag}: expected a non-negative integer, got "${value}"`);
      return Number(value);
    };
    switch (flag) {
      case '--data':
        args.data = path.resolve(value);
        break;
      case '--rows':
        args.rows = count();
        break;
      case '--quiet-days':
        args.quietDays = count();
        break;
      case '--seed':
        args.seed = count();
        break;
      case '--throughput-countries':
        args.throughputCountries = count();
        break;
      case '--throughput-days':
        args.throughputDays = count();
        break;
      case '--runs':
        args.runs = count();
        break;
      default:
        throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  return args;
}

function main(): void {
  const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2), repoRoot);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const t0 = performance.now();
  const rows = loadOutages(args.data);
  const report = runBench({
    rows,
    ...(args.rows === undefined ? {} : { limit: args.rows }),
    seed: args.seed,
    quietDays: args.quietDays,
    throughput: args.throughputCountries > 0 ? { countries: args.throughputCountries, days: Math.max(1, args.throughputDays), runs: Math.max(1, args.runs) } : null,
  });
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(`Machine: ${cpu}, ${cpus().length} logical CPUs, Node ${process.version}\n`);
  process.stdout.write(`Data: ${args.data}\n`);
  process.stdout.write(formatReport(report));
  process.stdout.write(`\nTotal benchmark wall time ${((performance.now() - t0) / 1000).toFixed(1)}s\n`);
}

main();
