/**
 * The scenario's windows (issue 25) for `lookout simulate`: each becomes a daemon `windows:`
 * entry whose cron expression names the one second, in UTC, at which it is to start; while the
 * scenario runs, the daemon's /api/v1/status says when each opened and closed, and when an
 * `expected` window closes on an event that opened inside it, the daemon's own metrics say that
 * the announced cut overran (lookout_disruption_expected 1 for the window while
 * lookout_window_active is 0 for it: what LookoutExpectedCutOverran reads).
 */
import { formatDuration } from '../config/duration.js';
import type { DisruptionEvent } from '../detect/events.js';
import type { ScenarioWindow } from './scenario.js';

/** A cron expression (with seconds) that matches the UTC second `ms` falls in, once a year. */
export function cronAt(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
}

/** The daemon's `windows:` for the scenario's, started `at` after `zeroMs` (rounded up to the second). */
export function daemonWindows(windows: readonly ScenarioWindow[], zeroMs: number): Record<string, unknown>[] {
  return windows.map((w) => ({
    name: w.name,
    kind: w.kind,
    cron: cronAt(Math.ceil((zeroMs + w.at) / 1000) * 1000),
    duration: formatDuration(w.for),
    timezone: 'UTC',
    countries: w.countries,
    ...(w.interval === undefined ? {} : { interval: formatDuration(w.interval) }),
    ...(w.reason === undefined ? {} : { reason: w.reason }),
  }));
}

/** One window as /api/v1/status lists it (the fields read here). */
export interface StatusWindow {
  name: string;
  kind: string;
  active: boolean;
}

/** The value of the first sample of `name` whose labels include all of `labels`, or null. */
export function metricValue(text: string, name: string, labels: Readonly<Record<string, string>>): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const space = line.lastIndexOf(' ');
    const head = line.slice(0, space);
    const got = new Map([...head.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got.get(k) === v)) return Number(line.slice(space + 1));
  }
  return null;
}

/** What the simulation reports when an expected window closes on an event still open. */
export interface Overrun {
  window: string;
  event: DisruptionEvent;
  /** lookout_disruption_expected for the event and window, read from /metrics after the close (null: absent). */
  expectedGauge: number | null;
  /** lookout_window_active for the window then (null: absent). */
  activeGauge: number | null;
}

/**
 * Follows the windows' states from successive status readings: returns the lines to print and
 * the overruns of each window that closed (open events marked with it).
 */
export class WindowWatch {
  private readonly active = new Map<string, boolean>();

  /** Windows whose state changed since the last reading: [window, opened?]. */
  changes(windows: readonly StatusWindow[]): { window: StatusWindow; opened: boolean }[] {
    const out: { window: StatusWindow; opened: boolean }[] = [];
    for (const w of windows) {
      const was = this.active.get(w.name) ?? false;
      if (w.active !== was) out.push({ window: w, opened: w.active });
      this.active.set(w.name, w.active);
    }
    return out;
  }
}

/** The overruns of an expected window that just closed, with the daemon's metrics text read then. */
export function overrunsOf(window: string, open: readonly DisruptionEvent[], metricsText: string): Overrun[] {
  return open
    .filter((e) => e.ended_at === null && e.expected === window)
    .map((event) => ({
      window,
      event,
      expectedGauge: metricValue(metricsText, 'lookout_disruption_expected', { kind: event.kind, country: event.country ?? '', window }),
      activeGauge: metricValue(metricsText, 'lookout_window_active', { window }),
    }));
}
