/**
 * The daemon's windows: the window clock of the running config, moved by the scheduler's
 * per-second ticker, with its openings and closings logged. A reload that changes `windows:`
 * replaces the clock; the new one looks at which occurrences are under way at its first tick.
 */
import { isDeepStrictEqual } from 'node:util';
import type { WindowConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { WindowClock, type WindowChange, type WindowStatus } from './window-clock.js';

export class Windows {
  private config: readonly WindowConfig[];
  private clock: WindowClock;

  constructor(
    windows: readonly WindowConfig[],
    private readonly log: Logger,
    /** Told of every opening and closing, after it is logged. */
    private readonly onChange: (change: WindowChange) => void = () => undefined,
  ) {
    this.config = windows;
    this.clock = new WindowClock(windows);
  }

  /** One tick of the scheduler's per-second ticker. */
  tick(now: number): void {
    const { changes, jumpSeconds } = this.clock.tick(now);
    if (jumpSeconds !== null && this.config.length > 0) this.log.warn({ jumpSeconds }, 'clock jump: windows looked at afresh');
    for (const change of changes) {
      const { window } = change;
      this.log.info(
        { window: window.name, kind: window.kind, countries: window.countries, start: new Date(change.start).toISOString(), end: new Date(change.end).toISOString() },
        change.type === 'opened' ? 'window opened' : 'window closed',
      );
      this.onChange(change);
    }
  }

  /** Takes a reloaded config's windows; unchanged ones keep the running clock. */
  update(windows: readonly WindowConfig[]): void {
    if (isDeepStrictEqual(windows, this.config)) return;
    this.clock.dispose();
    this.config = windows;
    this.clock = new WindowClock(windows);
  }

  /** The open windows. */
  active(): WindowConfig[] {
    return this.clock.active();
  }

  summary(): ReturnType<WindowClock['summary']> {
    return this.clock.summary();
  }

  /** For /api/v1/status. */
  status(): WindowStatus[] {
    return this.clock.status();
  }

  dispose(): void {
    this.clock.dispose();
  }
}
