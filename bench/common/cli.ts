/**
 * What every benchmark's command line shares: the machine description its report starts with,
 * the --lookout option (which built Lookout to measure), a bound on the whole run, and the
 * process plumbing (children killed on exit and on SIGINT/SIGTERM, exit code 1 with a message
 * on failure).
 */
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { killAll } from './children.js';
import { CLK_TCK } from './proc.js';
import { ROOT } from './repo.js';

export { ROOT };

/** What the reports say about the machine (and what the caller adds, such as `lookout`). */
export interface MachineInfo {
  nproc: string;
  cpu: string;
  node: string;
  kernel: string;
  clkTck: number;
}

/** CPU model, core count, Node, kernel and clock tick of this machine, plus `extra`. */
export function machineInfo<E extends object>(extra: E): MachineInfo & E {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    clkTck: CLK_TCK,
    ...extra,
  };
}

/**
 * The Lookout checkout to measure: `dir` (another worktree, e.g. an older commit, to compare
 * before and after with the same benchmark) or this repository. It must have been built.
 */
export function lookoutRoot(dir: string | undefined): string {
  const root = dir === undefined ? ROOT : resolve(dir);
  if (!existsSync(join(root, 'dist/main.js'))) throw new Error(`--lookout: ${root}/dist/main.js does not exist (run npm run build there)`);
  return root;
}

/**
 * `<root> at <short commit>` (plus ` with uncommitted changes`), for the report. The root is shown
 * relative to this repository (`.` for itself), so that recorded reports name no machine's paths.
 */
export function describeLookout(root: string): string {
  try {
    const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return `${relative(ROOT, root) || '.'} at ${commit}${dirty ? ' with uncommitted changes in src/' : ''}`;
  } catch {
    return `${root} (not a git checkout)`;
  }
}

/** Whether `value` is one of `choices` (and so of their type). */
export function isOneOf<T extends string>(choices: readonly T[], value: string): value is T {
  return (choices as readonly string[]).includes(value);
}

/**
 * The command line that ran this benchmark, as the report records it: `<prefix>node <script>
 * <argv>` with the script relative to the repository (the compiled one under .bench-build/).
 */
export function commandLine(argv: readonly string[], prefix = ''): string {
  return `${prefix}node ${relative(ROOT, process.argv[1] ?? '')} ${argv.join(' ')}`.trim();
}

/** Kills everything and exits 1 if the run is still going after `ms`; returns a cancel function. */
export function boundRun(name: string, ms: number): () => void {
  const timer = setTimeout(() => {
    process.stderr.write(`${name}: run exceeded its bound of ${ms / 1000} s; killing everything\n`);
    killAll();
    process.exit(1);
  }, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * Runs `main(argv)` as the program: every child is killed when the process exits or is
 * interrupted (exit 130), and a failure is printed as `<name>: <message>` with exit code 1.
 */
export function runBenchmark(name: string, main: (argv: string[]) => Promise<void>): void {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  main(process.argv.slice(2)).then(
    () => {
      process.exitCode = 0;
    },
    (err: unknown) => {
      killAll();
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
