import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/**
 * The daemon's JSON logger. Secrets never reach it: header values and admin tokens are
 * redacted by path, and callers log reason codes and ids, not whole objects.
 */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = {
    level,
    base: { name: 'lookout' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['headers.*', '*.headers.*', 'admin_token', '*.admin_token', 'authorization'], censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that discards everything, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
