#!/usr/bin/env node
/**
 * The process boundary: argv, environment, signals and exit codes. Nothing else touches
 * `process`. Exit codes: 0 success, 1 failure (invalid config, fatal error, second signal),
 * 2 usage error.
 */
import { startApp, type App } from './app.js';
import { parseArgs, USAGE, UsageError, type Command } from './cli.js';
import { ConfigError, loadConfig } from './config/load.js';
import { configWarnings } from './config/warnings.js';
import { DIR_MODE } from './store/event-store.js';
import { prepareStorageDir, StorageDirError } from './store/storage-dir.js';
import { geoAudit } from './commands/geo-audit-command.js';
import { openGeo } from './geo/geo-config.js';
import { replayCommand } from './commands/replay-command.js';
import { reportCommand } from './commands/report-command.js';
import { openStoredHistory } from './report/stored-history.js';
import { simulateCommand } from './commands/simulate-command.js';
import { splitHostPort } from './config/schema.js';
import { createLogger, type Logger } from './log.js';
import { VERSION } from './version.js';
import { describeWindows } from './windows/describe.js';

/** How long in-flight probes may run after SIGTERM before they are aborted. */
const SHUTDOWN_GRACE_MS = 2000;
/** Hard bound on the whole shutdown: past it the process exits 1 regardless. */
const SHUTDOWN_DEADLINE_MS = 4500;
/**
 * A repeat of the first stop signal within this long is the same request, not a second one: a
 * terminal's Ctrl-C reaches the whole foreground process group (npm and the daemon it started),
 * and npm forwards its own copy to the daemon as well.
 */
const REPEATED_SIGNAL_MS = 1000;

async function main(): Promise<number> {
  let command: Command;
  try {
    command = parseArgs(process.argv.slice(2), process.env.LOOKOUT_CONFIG);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`lookout: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  switch (command.name) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
      process.stdout.write(`lookout ${VERSION} (node ${process.version})\n`);
      return 0;
    case 'check-config':
      return checkConfig(command.config, command.geo);
    case 'healthcheck':
      return healthcheck(command.config);
    case 'report':
      return reportCommand(command, {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        log: createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr),
        now: Date.now,
        openHistory: openStoredHistory,
      });
    case 'replay':
      return replayCommand(command.config, command.results, {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      });
    case 'simulate': {
      // SIGTERM/SIGINT end the run early: the world is torn down and what was seen is printed.
      const interrupt = new AbortController();
      const onSignal = (): void => interrupt.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      return simulateCommand(command, {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        execPath: process.execPath,
        script: process.argv[1] ?? '',
        argv: process.argv.slice(2),
        env: process.env,
        uid: process.getuid?.() ?? null,
        version: VERSION,
        nodeVersion: process.version,
        signal: interrupt.signal,
      });
    }
    case 'run':
      return run(command.config, createLogger(process.env.LOG_LEVEL ?? 'info'));
  }
}

async function checkConfig(configPath: string, geo: boolean): Promise<number> {
  try {
    // File names relative to where the command was typed, as the operator named the config.
    const config = await loadConfig(configPath, { namesFrom: process.cwd() });
    const catalogs = new Set(config.targets.map((t) => t.file)).size;
    // A configured location database that cannot be opened is a config problem too, and so is
    // a storage folder the daemon could not create or write (tested as the daemon does it).
    if (!geo) await openGeo(config);
    await storageProblem(config.storageDir);
    process.stdout.write(`${configPath}: ok (${config.targets.length} targets from ${catalogs} files)\n`);
    for (const warning of configWarnings(config)) process.stderr.write(`${warning}\n`);
    for (const line of describeWindows(config.windows)) process.stdout.write(`${line}\n`);
    if (!geo) return 0;
    const audit = await geoAudit(config);
    for (const line of audit.out) process.stdout.write(`${line}\n`);
    for (const line of audit.err) process.stderr.write(`${line}\n`);
    return audit.ok ? 0 : 1;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) process.stderr.write(`${problem}\n`);
    process.stderr.write(`${configPath}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n`);
    return 1;
  }
}

/** @throws ConfigError with `storage.dir: ...` when the storage folder cannot be used. */
async function storageProblem(dir: string): Promise<void> {
  try {
    await prepareStorageDir(dir, DIR_MODE);
  } catch (err) {
    if (err instanceof StorageDirError) throw new ConfigError([`storage.dir: ${err.message}`]);
    throw err;
  }
}

/** Asks the local daemon's /healthz; used as the container HEALTHCHECK (no curl in the image). */
async function healthcheck(configPath: string): Promise<number> {
  let url: string;
  try {
    const config = await loadConfig(configPath);
    const hp = splitHostPort(config.server.listen);
    if (!hp) return 1;
    const host = hp.host === '0.0.0.0' ? '127.0.0.1' : hp.host === '::' ? '[::1]' : hp.host.includes(':') ? `[${hp.host}]` : hp.host;
    url = `http://${host}:${hp.port}/healthz`;
  } catch (err) {
    process.stderr.write(`healthcheck: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return res.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`healthcheck: ${url}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function run(configPath: string, log: Logger): Promise<number> {
  let app: App;
  try {
    app = await startApp({ configPath, log, version: VERSION, nodeVersion: process.version });
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal({ path: configPath, problems: err.problems }, 'invalid config; not starting');
      return 1;
    }
    if (err instanceof StorageDirError) {
      log.fatal({ dir: err.dir, errno: err.code, problem: err.message }, 'storage folder not usable; not starting');
      return 1;
    }
    log.fatal({ err }, 'startup failed');
    return 1;
  }

  return new Promise<number>((resolve) => {
    let first: { signal: NodeJS.Signals; at: number } | null = null;
    const onStop = (signal: NodeJS.Signals): void => {
      if (first !== null) {
        if (signal === first.signal && Date.now() - first.at < REPEATED_SIGNAL_MS) {
          log.debug({ signal }, 'repeated signal: already shutting down');
          return;
        }
        log.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      first = { signal, at: Date.now() };
      log.info({ signal, grace_ms: SHUTDOWN_GRACE_MS }, 'shutting down');
      const deadline = setTimeout(() => {
        log.error({ deadline_ms: SHUTDOWN_DEADLINE_MS }, 'shutdown exceeded its deadline: exiting');
        resolve(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      app.stop(SHUTDOWN_GRACE_MS).then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', () => {
      log.info({ signal: 'SIGHUP' }, 'reloading config');
      app.reload().catch((err: unknown) => log.error({ err }, 'config reload crashed'));
    });
  });
}

process.on('unhandledRejection', (err) => {
  process.stderr.write(`lookout: unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

main().then(
  (code) => {
    // pino writes asynchronously; give it a tick to flush before exiting.
    process.exitCode = code;
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`lookout: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
