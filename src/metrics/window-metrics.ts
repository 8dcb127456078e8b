/**
 * lookout_window_active{window,kind}: 1 while a configured window is open, 0 while it is not;
 * read from the window clock at scrape time, so a reload that removes a window removes its series.
 */
import { Gauge, type Registry } from 'prom-client';
import type { WindowStatus } from '../windows/window-clock.js';
import { LABEL_NAMES } from './labels.js';
import * as names from './names.js';

export function registerWindowMetrics(registry: Registry, windows: () => readonly Pick<WindowStatus, 'name' | 'kind' | 'active'>[]): void {
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
