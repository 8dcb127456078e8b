/** What the open `watch` windows change in the schedule: shorter intervals for their countries' targets. */
import type { ResolvedTarget, WindowConfig } from '../config/schema.js';

/**
 * The interval of each target (by id) that an open watch window shortens: the shortest
 * interval among the open watch windows covering its country (a window without countries
 * covers every country), never longer than the target's own. Controls keep their schedule.
 */
export function watchIntervals(open: readonly WindowConfig[], targets: readonly ResolvedTarget[]): Map<string, number> {
  const out = new Map<string, number>();
  const watches = open.filter((w) => w.kind === 'watch' && w.interval !== undefined);
  if (watches.length === 0) return out;
  for (const t of targets) {
    if (t.control) continue;
    for (const w of watches) {
      if (w.countries.length > 0 && !w.countries.includes(t.country)) continue;
      const interval = Math.min(w.interval ?? Infinity, out.get(t.id) ?? Infinity, t.interval ?? Infinity);
      out.set(t.id, interval);
    }
  }
  return out;
}
