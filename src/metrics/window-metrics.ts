/**
 * lookout_window_active{window,kind}: 1 while a configured window is open, 0 while it is not;
 * read from the window clock at scrape time, so a reload that removes a window removes its series.
 */
import { Gauge, type Registry } from 'prom-client';
import type { DisruptionEvent } from '../detect/events.js';
import type { WindowStatus } from '../windows/window-clock.js';
import { LABEL_NAMES, pathLabel } from './labels.js';
import * as names from './names.js';

/**
 * Also lookout_disruption_expected{kind,country,path,window}: 1 for each open event that opened
 * inside an `expected` window (the alert rules join it with lookout_window_active).
 */
export function registerWindowMetrics(
  registry: Registry,
  windows: () => readonly Pick<WindowStatus, 'name' | 'kind' | 'active'>[],
  active: () => readonly DisruptionEvent[],
): void {
  new Gauge({
    name: names.DISRUPTION_EXPECTED,
    help: 'An open disruption event that opened inside an expected window (1).',
    labelNames: LABEL_NAMES.disruptionExpected,
    registers: [registry],
    collect(this: Gauge<'kind' | 'country' | 'path' | 'window'>) {
      this.reset();
      for (const e of active()) {
        if (e.expected !== undefined) this.set({ kind: e.kind, country: e.country ?? '', window: e.expected, ...pathLabel(e.path) }, 1);
      }
    },
  });
  new Gauge({
    name: names.WINDOW_ACTIVE,
    help: 'Whether the configured window is open (1) or not (0).',
    labelNames: LABEL_NAMES.windowActive,
    registers: [registry],
    collect(this: Gauge<'window' | 'kind'>) {
      this.reset();
      for (const w of windows()) this.set({ window: w.name, kind: w.kind }, w.active ? 1 : 0);
    },
  });
}
