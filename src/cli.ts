/**
 * Command-line parsing (pure): argv in, a command description or a usage error out.
 */
export const USAGE = `Usage: lookout [command] [options]

Commands:
  run [--config FILE]            start the daemon (default command)
  check-config [--config FILE]   validate the config and its catalogs; exit 0 when valid, 1 otherwise
  replay --config FILE RESULTS.jsonl
                                 run recorded probe results through the detector and print the
                                 events as JSON lines (deterministic); exit 1 on bad input lines
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
  | { name: 'run' | 'check-config' | 'healthcheck'; config: string }
  | { name: 'replay'; config: string; results: string }
  | { name: 'version' | 'help' };

export class UsageError extends Error {
  readonly code = 'LOOKOUT_USAGE';
}

const COMMANDS = new Set(['run', 'check-config', 'healthcheck', 'replay', 'version', 'help']);
export const DEFAULT_CONFIG = 'config/lookout.yaml';

/** Parses argv (without node and script). `envConfig` is $LOOKOUT_CONFIG. */
export function parseArgs(argv: readonly string[], envConfig: string | undefined): Command {
  const args = [...argv];
  let name = 'run';
  if (args[0] !== undefined && !args[0].startsWith('-')) name = args.shift() as string;
  if (name === '--help' || name === '-h') name = 'help';
  if (!COMMANDS.has(name)) throw new UsageError(`unknown command "${name}"`);
  let config: string | undefined;
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
    } else if (name === 'replay' && !arg.startsWith('-')) {
      positional.push(arg);
    } else {
      throw new UsageError(`unexpected argument "${arg}"`);
    }
  }
  if (name === 'version' || name === 'help') return { name };
  if (name === 'replay') {
    if (positional.length !== 1) throw new UsageError('replay needs exactly one RESULTS.jsonl file');
    return { name, config: config ?? envConfig ?? DEFAULT_CONFIG, results: positional[0] as string };
  }
  return { name: name as 'run' | 'check-config' | 'healthcheck', config: config ?? envConfig ?? DEFAULT_CONFIG };
}
