/** The windows as `lookout check-config` prints them: each with its next three starts in UTC and in its zone. */
import type { WindowConfig } from '../config/schema.js';
import { formatDuration } from '../config/duration.js';
import { CronSchedule } from './cron.js';

/** How many next starts check-config shows per window. */
export const NEXT_STARTS_SHOWN = 3;

/** One header line per window, then one line per next start (from the system clock's now). */
export function describeWindows(windows: readonly WindowConfig[]): string[] {
  const lines: string[] = [];
  for (const w of windows) {
    const cron = new CronSchedule(w.cron, w.timezone);
    try {
      const scope = w.countries.length > 0 ? w.countries.join(',') : 'all countries';
      const extra = w.kind === 'watch' && w.interval !== undefined ? `, every ${formatDuration(w.interval)}` : w.reason ? `, ${w.reason}` : '';
      lines.push(`window ${w.name}: ${w.kind} (${scope}${extra}), "${w.cron}" for ${formatDuration(w.duration)} in ${w.timezone}; next starts:`);
      for (const start of cron.nextStarts(NEXT_STARTS_SHOWN)) {
        lines.push(`  ${start.toISOString().replace('.000Z', 'Z')}  ${cron.localKey(start.getTime())} ${w.timezone}`);
      }
    } finally {
      cron.dispose();
    }
  }
  return lines;
}
