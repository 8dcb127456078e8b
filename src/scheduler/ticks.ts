import { createTask, type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

/** A once-per-second tick that drives the scheduler's timing wheel. */
export interface TickSource {
  /** Starts calling `onTick` about once per second, near the top of each second. */
  start(onTick: () => void): void;
  stop(): void;
}

/** The production tick source: a node-cron task on `* * * * * *`. */
export function cronTicks(log: Logger): TickSource {
  let task: ScheduledTask | null = null;
  const settle = (result: void | Promise<void>, what: string): void => {
    Promise.resolve(result).catch((err: unknown) => log.error({ err, what }, 'scheduler tick source failed'));
  };
  return {
    start(onTick) {
      if (task) return;
      // The scheduler catches up on seconds a late tick left behind, so missed ticks need no warning.
      task = createTask('* * * * * *', () => onTick(), {
        name: 'lookout-scheduler',
        suppressMissedWarning: true,
        logger: cronLogger(log),
      });
      settle(task.start(), 'start');
    },
    stop() {
      if (!task) return;
      const t = task;
      task = null;
      settle(t.destroy(), 'stop');
    },
  };
}

function cronLogger(log: Logger): CronLogger {
  return {
    info: (detail) => log.debug({ detail }, 'node-cron info'),
    warn: (detail) => log.warn({ detail }, 'node-cron warning'),
    error: (message, err) => log.error({ err: err ?? message }, 'node-cron error'),
    debug: (message, err) => log.debug({ err: err ?? message }, 'node-cron debug'),
  };
}
