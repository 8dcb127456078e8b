/**
 * Command-line parsing (pure): argv in, a command description or a usage error out.
 */
export const USAGE = `Usage: lookout [command] [options]

Commands:
  run [--config FILE]            start the daemon (default command)
  check-config [--config FILE] [--geo]
                                 validate the config and its catalogs; exit 0 when valid, 1 otherwise;
                                 --geo also locates every IP literal of the catalogs offline and
                                 lists (exit 1) those outside their declared country or AS
  replay --config FILE RESULTS.jsonl
                                 run recorded probe results through the detector and print the
                                 events as JSON lines (deterministic); exit 1 on bad input lines
  simulate SCENARIO.yaml [--listen HOST:PORT] [--report FILE] [--keep]
                                 run the real daemon against a fault-injection world in a private
                                 network namespace and print expected beside detected events;
                                 exit 0 when they match, 1 when not, 2 without the privileges
  report EVENT_ID [--config FILE] [--out DIR]
                                 write an event's report (chart as SVG and PNG, CSV of its points,
                                 Markdown summary) from the stored events and history to
                                 DIR/<event id>/ (default DIR: the current directory); offline
  healthcheck [--config FILE]    exit 0 when the local daemon answers /healthz (for container HEALTHCHECK)
  version                        print the version
  help                           print this help

Options:
  --config FILE, -c FILE         config file (default: $LOOKOUT_CONFIG or config/lookout.yaml)

Environment:
  LOOKOUT_CONFIG                 config file when --config is not given
  LOG_LEVEL                      trace, debug, info (default), warn, error, fatal
`;

export type Command =
  | { name: 'run' | 'healthcheck'; config: string }
  | { name: 'check-config'; config: string; geo: boolean }
  | { name: 'replay'; config: string; results: string }
  | { name: 'report'; config: string; id: string; out: string }
  | { name: 'simulate'; scenario: string; listen?: string; report?: string; keep: boolean }
  | { name: 'version' | 'help' };

export class UsageError extends Error {
  readonly code = 'LOOKOUT_USAGE';
}

const COMMANDS = new Set(['run', 'check-config', 'healthcheck', 'replay', 'report', 'simulate', 'version', 'help']);
export const DEFAULT_CONFIG = 'config/lookout.yaml';

/** Parses argv (without node and script). `envConfig` is $LOOKOUT_CONFIG. */
export function parseArgs(argv: readonly string[], envConfig: string | undefined): Command {
  const args = [...argv];
  let name = 'run';
  if (args[0] !== undefined && !args[0].startsWith('-')) name = args.shift() as string;
  if (name === '--help' || name === '-h') name = 'help';
  if (!COMMANDS.has(name)) throw new UsageError(`unknown command "${name}"`);
  if (name === 'simulate') return parseSimulate(args);
  let config: string | undefined;
  let geo = false;
  let out: string | undefined;
  const positional: string[] = [];
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '--help' || arg === '-h') return { name: 'help' };
    if (arg === '--config' || arg === '-c') {
      const value = args.shift();
      if (value === undefined || value === '') throw new UsageError(`${arg} needs a file`);
      config = value;
    } else if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length);
      if (config === '') throw new UsageError('--config needs a file');
    } else if (name === 'check-config' && arg === '--geo') {
      geo = true;
    } else if (name === 'report' && (arg === '--out' || arg.startsWith('--out='))) {
      out = arg === '--out' ? args.shift() : arg.slice('--out='.length);
      if (out === undefined || out === '') throw new UsageError('--out needs a directory');
    } else if ((name === 'replay' || name === 'report') && !arg.startsWith('-')) {
      positional.push(arg);
    } else {
      throw new UsageError(`unexpected argument "${arg}"`);
    }
  }
  if (name === 'version' || name === 'help') return { name };
  if (name === 'replay') {
    if (positional.length !== 1) throw new UsageError('replay needs exactly one RESULTS.jsonl file');
    // No silent default: the config decides which results count and whose vantage the events are.
    const chosen = config ?? envConfig;
    if (chosen === undefined) throw new UsageError('replay needs --config FILE (or $LOOKOUT_CONFIG): the config the results were recorded with');
    return { name, config: chosen, results: positional[0] as string };
  }
  if (name === 'report') {
    if (positional.length !== 1) throw new UsageError('report needs exactly one EVENT_ID');
    return { name, config: config ?? envConfig ?? DEFAULT_CONFIG, id: positional[0] as string, out: out ?? '.' };
  }
  if (name === 'check-config') return { name, config: config ?? envConfig ?? DEFAULT_CONFIG, geo };
  return { name: name as 'run' | 'healthcheck', config: config ?? envConfig ?? DEFAULT_CONFIG };
}

function parseSimulate(args: string[]): Command {
  const positional: string[] = [];
  let listen: string | undefined;
  let report: string | undefined;
  let keep = false;
  const value = (flag: string, v: string | undefined): string => {
    if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
    return v;
  };
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '--help' || arg === '-h') return { name: 'help' };
    else if (arg === '--keep') keep = true;
    else if (arg === '--listen') listen = value(arg, args.shift());
    else if (arg.startsWith('--listen=')) listen = value('--listen', arg.slice('--listen='.length));
    else if (arg === '--report') report = value(arg, args.shift());
    else if (arg.startsWith('--report=')) report = value('--report', arg.slice('--report='.length));
    else if (!arg.startsWith('-')) positional.push(arg);
    else throw new UsageError(`unexpected argument "${arg}"`);
  }
  if (positional.length !== 1) throw new UsageError('simulate needs exactly one SCENARIO.yaml file');
  if (listen !== undefined && !/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d{1,5}$/.test(listen)) {
    throw new UsageError('--listen needs HOST:PORT, e.g. 127.0.0.1:9464');
  }
  return { name: 'simulate', scenario: positional[0] as string, keep, ...(listen === undefined ? {} : { listen }), ...(report === undefined ? {} : { report }) };
}
