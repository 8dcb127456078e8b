/**
 * `lookout simulate SCENARIO.yaml`: runs the real daemon against the scenario's world and
 * prints expected beside detected events.
 *
 * The world needs a private network namespace. Outside one, the command runs itself again
 * under `unshare --net` (with `--map-root-user` when not root); when that is not permitted it
 * says what is missing and exits 2. Inside, it brings loopback up, runs the scenario and exits
 * 0 when every expected event was detected as expected and nothing else was, 1 otherwise.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import { writeStoredReports } from './report-command.js';
import { openStoredHistory } from '../report/stored-history.js';
import { readStoredEvents } from '../store/stored-events.js';
import { describeMissing, missingCapabilities, SIMULATE_CAPABILITIES } from '../sim/capabilities.js';
import { inPrivateNetns } from '../sim/netns.js';
import { formatComparison, runScenario } from '../sim/run.js';
import { loadScenario } from '../sim/scenario.js';

export interface SimulateArgs {
  scenario: string;
  listen?: string;
  report?: string;
  keep: boolean;
}

export interface SimulateIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Node's executable, the entry script and its arguments: how to run this command again. */
  execPath: string;
  script: string;
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** The effective user id; null where unknown. */
  uid: number | null;
  version: string;
  nodeVersion: string;
  /** Aborted by SIGTERM/SIGINT: the run stops early, cleans up and exits 130. */
  signal: AbortSignal;
}

/** Exit code of a run cut short by a signal. */
const INTERRUPTED = 130;

/** Set on the re-executed command so it never tries to unshare again. */
const INNER_ENV = 'LOOKOUT_SIMULATE_NETNS';

const PRIVILEGE_HINT =
  'lookout simulate needs a private network namespace for its world (iptables faults must never touch the host network). ' +
  'Run it as root, or as a user allowed to create user namespaces (sysctl user.max_user_namespaces > 0, ' +
  'kernel.unprivileged_userns_clone=1 where it exists); in a container add --cap-add SYS_ADMIN --cap-add NET_ADMIN. ' +
  'It also needs unshare (util-linux), ip (iproute2) and iptables.';

function run(file: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: 10_000, encoding: 'utf8' }, (err, _stdout, stderr) => {
      if (!err) return resolve({ code: 0, stderr });
      const code = typeof err.code === 'number' ? err.code : 127;
      resolve({ code, stderr: stderr.trim() || err.message });
    });
  });
}

/** Runs the command; resolves with the exit code. */
export async function simulateCommand(args: SimulateArgs, io: SimulateIo): Promise<number> {
  let scenario;
  try {
    scenario = await loadScenario(args.scenario);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(p);
    return 1;
  }
  if (!(await inPrivateNetns())) {
    if (io.env[INNER_ENV] === '1') {
      io.err('lookout simulate: the re-executed command is still not in a private network namespace');
      return 2;
    }
    return reexecInNetns(io);
  }

  const up = await run('ip', ['link', 'set', 'lo', 'up']);
  if (up.code !== 0) {
    io.err(`lookout simulate: cannot bring up loopback in the namespace: ${up.stderr}. ${PRIVILEGE_HINT}${await missingHere(io)}`);
    return 2;
  }
  const iptables = await run('iptables', ['-S', 'OUTPUT']);
  if (iptables.code !== 0) {
    io.err(`lookout simulate: iptables does not work in the namespace: ${iptables.stderr}. ${PRIVILEGE_HINT}${await missingHere(io)}`);
    return 2;
  }

  const workDir = await mkdtemp(join(tmpdir(), `lookout-sim-${scenario.name}-`));
  try {
    const result = await runScenario({
      scenario,
      workDir,
      keep: args.keep,
      ...(args.listen === undefined ? {} : { listen: args.listen }),
      out: io.out,
      version: io.version,
      nodeVersion: io.nodeVersion,
      signal: io.signal,
    });
    io.out('');
    for (const line of formatComparison(result.comparison)) io.out(line);
    io.out(onsetNote(scenario.schedule.interval));
    if (result.interrupted) {
      io.err('lookout simulate: interrupted before the scenario ended; the verdict above is incomplete');
      return INTERRUPTED;
    }
    if (args.report !== undefined) {
      const report = { scenario: scenario.name, passed: result.comparison.passed, counts: result.comparison.counts, rows: result.comparison.rows };
      await writeFile(args.report, `${JSON.stringify(report, null, 2)}\n`);
      const dirs = await writeEventReports(workDir, eventReportsDir(args.report));
      io.err(`lookout simulate: wrote ${dirs.length} event report${dirs.length === 1 ? '' : 's'} to ${eventReportsDir(args.report)}`);
    }
    return result.comparison.passed ? 0 : 1;
  } finally {
    if (args.keep) io.err(`lookout simulate: kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
}

/** Where `--report FILE` puts each detected event's report: FILE without its extension, plus "-events". */
export function eventReportsDir(reportFile: string): string {
  const ext = extname(reportFile);
  return `${ext === '' ? reportFile : reportFile.slice(0, -ext.length)}-events`;
}

/** The report of every event the scenario's daemon stored, from its storage dir (as `lookout report` would). */
async function writeEventReports(workDir: string, outDir: string): Promise<string[]> {
  // Drawn at the lowest CPU priority (the render worker inherits this thread's nice value):
  // the world is gone, but other simulations may share the machine and keep their timing.
  try {
    setPriority(19);
  } catch {
    // Not permitted: draw at the normal priority.
  }
  const config = await loadConfig(join(workDir, 'lookout.yaml'));
  const events = await readStoredEvents(config.storageDir, silentLogger());
  return writeStoredReports(config, events, outDir, Date.now(), openStoredHistory);
}

/**
 * For root only (a user namespace gives an unprivileged user every capability inside it): the
 * capabilities this process lacks, as a sentence naming the container flags; '' when none.
 */
async function missingHere(io: SimulateIo): Promise<string> {
  return io.uid === 0 ? describeMissing(await missingCapabilities(SIMULATE_CAPABILITIES)) : '';
}

/** Runs this same command again inside a new network namespace; resolves with its exit code. */
async function reexecInNetns(io: SimulateIo): Promise<number> {
  const unshare = io.uid === 0 ? ['--net'] : ['--net', '--map-root-user'];
  const probe = await run('unshare', [...unshare, '--', 'true']);
  if (probe.code !== 0) {
    io.err(`lookout simulate: cannot create a network namespace (unshare ${unshare.join(' ')}: ${probe.stderr}). ${PRIVILEGE_HINT}${await missingHere(io)}`);
    return 2;
  }
  return new Promise((resolve) => {
    const child = spawn('unshare', [...unshare, '--', io.execPath, io.script, ...io.argv], {
      stdio: 'inherit',
      env: { ...io.env, [INNER_ENV]: '1' },
    });
    // The inner run cleans up and reports on SIGTERM; a terminal's SIGINT reaches it directly.
    const forward = (): void => void child.kill('SIGTERM');
    io.signal.addEventListener('abort', forward, { once: true });
    child.on('exit', () => io.signal.removeEventListener('abort', forward));
    child.on('error', (err) => {
      io.err(`lookout simulate: ${err.message}`);
      resolve(2);
    });
    child.on('exit', (code) => resolve(code ?? INTERRUPTED));
  });
}

/**
 * What the onsets above mean for a real deployment: a scenario runs at a compressed schedule,
 * and the delay to an event grows with the interval (bench/RESULTS.md has the 60 s figures).
 */
export function onsetNote(intervalMs: number): string {
  return `onsets are at this scenario's ${(intervalMs / 1000).toFixed(1)}s interval; at the shipped 60 s interval expect about a minute (median; bench/RESULTS.md, npm run bench:truth)`;
}
