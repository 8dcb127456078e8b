import type { Logger } from '../log.js';

/** A once-per-second tick that drives the scheduler's timing wheel. */
export interface TickSource {
  /** Starts calling `onTick` about once per second, near the top of each second. */
  start(onTick: () => void): void;
  stop(): void;
}

/**
 * The production tick source: a timer re-armed after every tick for the top of the next
 * wall-clock second. Each wait is computed afresh and is never longer than a second, so a step
 * of the wall clock (NTP, a VM resumed, an operator) changes at most one wait: the ticks go on
 * and the scheduler sees the jump at the next one. (node-cron, used before, waits for the slot
 * it planned before the step: after a step back of an hour it stayed silent for that hour.)
 */
export function secondTicks(log: Logger, now: () => number = Date.now): TickSource {
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  return {
    start(onTick) {
      if (running) return;
      running = true;
      const arm = (): void => {
        // A little past the top of the second, so that the tick reads the new second.
        const wait = 1000 - (((now() % 1000) + 1000) % 1000) + 1;
        timer = setTimeout(() => {
          if (!running) return;
          try {
            onTick();
          } catch (err) {
            log.error({ err }, 'scheduler tick failed');
          }
          arm();
        }, Math.min(1001, Math.max(1, wait)));
      };
      arm();
    },
    stop() {
      running = false;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
