/**
 * Expected against detected events, for `lookout simulate`. Pure.
 *
 * An expected event matches a detected one of the same kind, country, ASN and category (absent
 * in the expectation means absent in the event); the earliest-seen unmatched one is taken. A
 * match is `wrong` when its mechanism differs from an expected one, it came later than
 * `within` after its cause, its started_at is further than `start_within` from its cause's
 * start (either way), or it is open at the end when it should have closed (or the other
 * way round), it does not carry the `expected` window it should, or it did (not) overrun that
 * window as `overran` says. Expected events without a match are `missed`, detected ones left
 * over `extra`.
 */
import type { DisruptionEvent } from '../detect/events.js';
import type { ExpectedEvent, Fault } from './scenario.js';

/** A detected event as the simulation saw it over the API. */
export interface SeenEvent {
  /** The event as last seen (ended_at set once it closed). */
  event: DisruptionEvent;
  /** When it first appeared, ms after the daemon started. */
  seenAt: number;
  /** When it was first seen closed, ms after the daemon started; null while open. */
  closedAt: number | null;
  /** Its started_at, ms after the daemon started. */
  startedAt: number;
  /** The expected window it was seen still open at the end of (the announced cut overran it). */
  overran?: string;
}

export type Verdict = 'ok' | 'missed' | 'wrong' | 'extra';

export interface ComparisonRow {
  verdict: Verdict;
  expected: ExpectedEvent | null;
  seen: SeenEvent | null;
  /** seenAt minus the cause's `at`, ms; null without a cause or a match. */
  onsetMs: number | null;
  problems: string[];
}

export interface Comparison {
  rows: ComparisonRow[];
  passed: boolean;
  counts: Record<Verdict, number>;
}

function sameSubject(e: ExpectedEvent, d: DisruptionEvent): boolean {
  return e.kind === d.kind && (e.country ?? null) === d.country && (e.asn ?? null) === d.asn && (e.category ?? null) === d.category;
}

/** Compares; rows come in expected order, then extras in the order they were seen. */
export function compareEvents(expected: readonly ExpectedEvent[], seen: readonly SeenEvent[], faults: readonly Fault[]): Comparison {
  const bySeen = [...seen].sort((a, b) => a.seenAt - b.seenAt || a.event.id.localeCompare(b.event.id));
  const used = new Set<SeenEvent>();
  const rows: ComparisonRow[] = expected.map((e) => {
    const match = bySeen.find((s) => !used.has(s) && sameSubject(e, s.event)) ?? null;
    if (match === null) return { verdict: 'missed', expected: e, seen: null, onsetMs: null, problems: ['not detected'] };
    used.add(match);
    const cause = e.cause === undefined ? undefined : faults.find((f) => f.id === e.cause);
    const onsetMs = cause === undefined ? null : match.seenAt - cause.at;
    const problems: string[] = [];
    if (e.mechanism !== undefined && match.event.mechanism !== e.mechanism) problems.push(`mechanism ${match.event.mechanism ?? 'none'}, expected ${e.mechanism}`);
    if (e.within !== undefined && onsetMs !== null && onsetMs > e.within) problems.push(`onset ${secs(onsetMs)}, expected within ${secs(e.within)}`);
    if (onsetMs !== null && onsetMs < 0) problems.push(`seen ${secs(-onsetMs)} before its cause`);
    if (e.start_within !== undefined && cause !== undefined) {
      const off = match.startedAt - cause.at;
      if (Math.abs(off) > e.start_within) problems.push(`started_at ${off < 0 ? '-' : '+'}${secs(Math.abs(off))} from its cause, expected within ${secs(e.start_within)}`);
    }
    if (e.expected !== undefined && match.event.expected !== e.expected) problems.push(`expected window ${match.event.expected ?? 'none'}, expected ${e.expected}`);
    if (e.overran === true && match.overran !== e.expected) problems.push(`did not overrun window ${e.expected ?? ''}`);
    if (e.overran === false && match.overran !== undefined) problems.push(`overran window ${match.overran}`);
    const open = match.event.ended_at === null;
    if (open && !e.open_at_end) problems.push('still open at the end');
    if (!open && e.open_at_end) problems.push('closed before the end');
    return { verdict: problems.length === 0 ? 'ok' : 'wrong', expected: e, seen: match, onsetMs, problems };
  });
  for (const s of bySeen) {
    if (!used.has(s)) rows.push({ verdict: 'extra', expected: null, seen: s, onsetMs: null, problems: ['not expected'] });
  }
  const counts: Record<Verdict, number> = { ok: 0, missed: 0, wrong: 0, extra: 0 };
  for (const r of rows) counts[r.verdict]++;
  return { rows, passed: counts.missed + counts.wrong + counts.extra === 0, counts };
}

/** "12.3s" (one decimal). */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** "shutdown KZ", "partial_outage KZ AS9198", "service_blocking KZ streaming tls". */
export function describe(e: { kind: string; country?: string | null; asn?: number | null; category?: string | null; mechanism?: string | null }): string {
  return [e.kind, e.country ?? null, e.asn == null ? null : `AS${e.asn}`, e.category ?? null, e.mechanism ?? null].filter((p) => p !== null).join(' ');
}

/** The comparison as an aligned text table, one line per row, plus a result line. */
export function formatComparison(c: Comparison): string[] {
  const header = ['expected', 'detected', 'seen', 'closed', 'onset', 'verdict'];
  const body = c.rows.map((r) => [
    r.expected ? describe(r.expected) + (r.expected.open_at_end ? ' (open at end)' : '') + (r.expected.expected === undefined ? '' : ` (in ${r.expected.expected}${r.expected.overran === true ? ', overran' : ''})`) : '-',
    r.seen ? describe(r.seen.event) : '-',
    r.seen ? `+${secs(r.seen.seenAt)}` : '-',
    r.seen ? (r.seen.closedAt === null ? 'open' : `+${secs(r.seen.closedAt)}`) : '-',
    r.onsetMs === null ? '-' : secs(r.onsetMs),
    r.verdict === 'ok' ? 'ok' : `${r.verdict.toUpperCase()}: ${r.problems.join('; ')}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const { counts } = c;
  const summary = `${c.passed ? 'PASS' : 'FAIL'}: ${counts.ok} ok, ${counts.missed} missed, ${counts.wrong} wrong, ${counts.extra} extra`;
  return [line(header), ...body.map(line), summary];
}
