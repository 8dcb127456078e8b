/**
 * The window clock: which `windows:` are open, driven by the scheduler's per-second ticker.
 *
 * Each second the ticker passes, every window asks node-cron (CronSchedule.startsAt) whether it
 * starts in that second; an occurrence then stays open for its `duration`. Occurrences are
 * ordered by their start's local wall time in the window's zone: a start whose local time is not
 * later than the last one opened is not opened again, so neither a clock stepped back nor the
 * repeated hour of a daylight-saving change opens a window twice. A jump of the clock (more than
 * a minute forward, more than two seconds back) is not replayed second by second: the clock asks
 * which occurrence is under way at the new time instead, so a window whose start was stepped
 * over still opens, and an open one stays open until its end by the new clock.
 */
import type { WindowConfig } from '../config/schema.js';
import { CronSchedule } from './cron.js';

/** A forward jump larger than this (seconds) is looked at afresh, not replayed. */
const MAX_CATCH_UP_SECONDS = 60;
/** A backward step larger than this (seconds) is looked at afresh. */
const MAX_BACKWARD_SECONDS = 2;

/** A window opening or closing. */
export interface WindowChange {
  type: 'opened' | 'closed';
  window: WindowConfig;
  /** The occurrence's start and end, epoch ms. */
  start: number;
  end: number;
}

/** One window as /api/v1/status shows it. */
export interface WindowStatus {
  name: string;
  kind: WindowConfig['kind'];
  countries: string[];
  timezone: string;
  active: boolean;
  /** ISO 8601 UTC; null when not active. */
  started_at: string | null;
  ends_at: string | null;
  /** The next start after now (node-cron's arithmetic), ISO 8601 UTC; null when there is none. */
  next_start: string | null;
}

interface WindowState {
  window: WindowConfig;
  cron: CronSchedule;
  /** The open occurrence, or null. */
  open: { start: number; end: number } | null;
  /** Local wall time of the latest start opened: later starts only. */
  lastKey: string;
}

export class WindowClock {
  private readonly states: WindowState[];
  /** The last whole second looked at (epoch ms); null before the first tick. */
  private last: number | null = null;

  /** The windows must have passed config validation (their cron expressions are valid). */
  constructor(windows: readonly WindowConfig[]) {
    this.states = windows.map((window) => ({ window, cron: new CronSchedule(window.cron, window.timezone), open: null, lastKey: '' }));
  }

  /**
   * Moves the clock to `now` (epoch ms) and returns the windows that opened or closed, in order.
   * The first call, and a call after a clock jump, look at which occurrences are under way.
   * `jumped` is set when the clock jumped (in seconds, negative: back).
   */
  tick(now: number): { changes: WindowChange[]; jumpSeconds: number | null } {
    const second = Math.floor(now / 1000) * 1000;
    const changes: WindowChange[] = [];
    const last = this.last;
    this.last = second;
    if (last === null) {
      this.rebuild(second, changes);
      return { changes, jumpSeconds: null };
    }
    const jump = (second - last) / 1000;
    if (jump > MAX_CATCH_UP_SECONDS || jump < -MAX_BACKWARD_SECONDS) {
      this.rebuild(second, changes);
      return { changes, jumpSeconds: jump };
    }
    for (let s = last + 1000; s <= second; s += 1000) this.step(s, changes);
    // A small step back: nothing starts again; ends are judged by the new clock.
    if (jump <= 0) for (const state of this.states) this.closeIfOver(state, second, changes);
    return { changes, jumpSeconds: null };
  }

  /** The open windows. */
  active(): WindowConfig[] {
    return this.states.filter((s) => s.open !== null).map((s) => s.window);
  }

  /** Each window's name, kind and whether it is open (cheap: for the gauge at each scrape). */
  summary(): { name: string; kind: WindowConfig['kind']; active: boolean }[] {
    return this.states.map(({ window, open }) => ({ name: window.name, kind: window.kind, active: open !== null }));
  }

  /** Every window with its state; next_start from the system clock (node-cron's next-run arithmetic). */
  status(): WindowStatus[] {
    return this.states.map(({ window, cron, open }) => {
      const next = cron.nextStarts(1)[0];
      return {
        name: window.name,
        kind: window.kind,
        countries: [...window.countries],
        timezone: window.timezone,
        active: open !== null,
        started_at: open ? new Date(open.start).toISOString() : null,
        ends_at: open ? new Date(open.end).toISOString() : null,
        next_start: next ? next.toISOString() : null,
      };
    });
  }

  /** Releases node-cron's task objects. */
  dispose(): void {
    for (const state of this.states) state.cron.dispose();
  }

  /** One second of the ticker: ends first, then starts. */
  private step(second: number, changes: WindowChange[]): void {
    for (const state of this.states) {
      this.closeIfOver(state, second, changes);
      if (state.cron.startsAt(second)) this.open(state, second, changes);
    }
  }

  private rebuild(second: number, changes: WindowChange[]): void {
    for (const state of this.states) {
      this.closeIfOver(state, second, changes);
      if (state.open) continue;
      const start = state.cron.latestStartWithin(second, state.window.duration);
      if (start !== null) this.open(state, start, changes);
    }
  }

  private open(state: WindowState, start: number, changes: WindowChange[]): void {
    const key = state.cron.localKey(start);
    if (key <= state.lastKey) return;
    state.lastKey = key;
    const end = start + state.window.duration;
    // A start while an occurrence is open (overlapping occurrences) extends it.
    const wasOpen = state.open !== null;
    state.open = { start: wasOpen && state.open ? state.open.start : start, end };
    if (!wasOpen) changes.push({ type: 'opened', window: state.window, start, end });
  }

  private closeIfOver(state: WindowState, second: number, changes: WindowChange[]): void {
    if (!state.open || second < state.open.end) return;
    changes.push({ type: 'closed', window: state.window, start: state.open.start, end: state.open.end });
    state.open = null;
  }
}
