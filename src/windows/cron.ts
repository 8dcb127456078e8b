/**
 * Every cron expression in Lookout goes through node-cron: parsing, validation, time zones,
 * daylight saving and next-run arithmetic. node-cron's own timers are never started: the
 * scheduler's per-second ticker asks `startsAt()` instead (node-cron's timer stalled for an hour
 * after the wall clock stepped back).
 */
import { createTask, validateDetailed, type ScheduledTask } from 'node-cron';

/** node-cron's detailed validation, one `field: message` line per problem (empty when valid). */
export function cronProblems(expression: string): string[] {
  let result;
  try {
    result = validateDetailed(expression);
  } catch (err) {
    return [`expression: ${err instanceof Error ? err.message : String(err)}`];
  }
  return result.valid ? [] : result.errors.map((e) => `${e.field}: ${e.message}`);
}

/** True when `zone` is an IANA time zone this Node knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A validated cron expression in a time zone. Call dispose() when done with it. */
export class CronSchedule {
  private readonly task: ScheduledTask;
  private readonly seconds: ReadonlySet<number>;
  private readonly local: Intl.DateTimeFormat;

  /** Throws (node-cron's message) for an invalid expression; validate with cronProblems() first. */
  constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    const parsed = validateDetailed(expression);
    if (!parsed.valid || !parsed.fields) throw new Error(cronProblems(expression).join('; '));
    this.seconds = new Set(parsed.fields.second);
    // Created, never started: no node-cron timer runs.
    this.task = createTask(expression, () => undefined, { timezone });
    this.local = new Intl.DateTimeFormat('sv-SE', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  /** Whether a start falls on the wall-clock second that begins at `secondMs` (epoch ms, whole second). */
  startsAt(secondMs: number): boolean {
    return this.task.match(new Date(secondMs));
  }

  /**
   * The latest start in (now - withinMs, now], or null: is an occurrence under way now? Walks
   * back minute by minute, trying only the seconds the expression allows.
   */
  latestStartWithin(nowMs: number, withinMs: number): number | null {
    const nowSecond = Math.floor(nowMs / 1000) * 1000;
    const earliest = nowMs - withinMs;
    for (let minute = Math.floor(nowSecond / 60_000) * 60_000; minute > earliest - 60_000; minute -= 60_000) {
      const candidates = [...this.seconds].map((s) => minute + s * 1000).sort((a, b) => b - a);
      for (const at of candidates) {
        if (at > nowSecond || at <= earliest) continue;
        if (this.startsAt(at)) return at;
      }
    }
    return null;
  }

  /** The next `count` starts after the system clock's now, from node-cron's arithmetic. */
  nextStarts(count: number): Date[] {
    return this.task.getNextRuns(count);
  }

  /** The start's local wall time in the zone, "YYYY-MM-DD HH:MM:SS": it orders occurrences across DST and clock steps. */
  localKey(ms: number): string {
    return this.local.format(new Date(ms));
  }

  dispose(): void {
    void this.task.destroy();
  }
}
