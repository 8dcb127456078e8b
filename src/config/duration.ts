import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * Parses a duration string (`500ms`, `10s`, `1.5s`, `5m`, `1h`) into milliseconds.
 * Returns null for anything else, including a missing unit and negative values.
 */
export function parseDuration(text: string): number | null {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return null;
  const value = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return Number.isFinite(value) ? Math.round(value) : null;
}

/** Formats milliseconds back into the shortest exact duration string. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms !== 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms !== 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms !== 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A duration string parsed into milliseconds. */
export const Duration = z.string({ error: 'expected a duration such as 500ms, 10s, 5m or 1h' }).transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === null || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `invalid duration "${s}": use a positive number with ms, s, m or h (500ms, 10s, 5m, 1h)` });
    return z.NEVER;
  }
  return ms;
});
