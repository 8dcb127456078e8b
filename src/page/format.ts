/** Text forms of the page's values. Everything here returns plain text; render.ts escapes it. */
import type { DisruptionEvent } from '../detect/events.js';
import type { ProbeResult } from '../probers/types.js';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function percent(ratio: number | null): string {
  return ratio === null ? '-' : `${(ratio * 100).toFixed(ratio === 1 || ratio === 0 ? 0 : 1)}%`;
}

export function latencyRatio(ratio: number | null): string {
  return ratio === null ? '-' : `×${ratio.toFixed(2)}`;
}

/** "2019-06-09 05:00:13 UTC". */
export function utc(ms: number | string): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "1 h 05 min", "12 min", "40 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${String(m % 60).padStart(2, '0')} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function eventDuration(e: DisruptionEvent, now: number): string {
  const start = Date.parse(e.started_at);
  const end = e.ended_at === null ? now : Date.parse(e.ended_at);
  return e.ended_at === null ? `${duration(end - start)}, open` : duration(end - start);
}

/** "eligible 12, down 11 (92%); tcp_timeout 9, tcp_reset 2; latency ×3.10; asns 9198; targets a, b". */
export function evidence(e: DisruptionEvent): string {
  const ev = e.evidence;
  const parts = [`eligible ${ev.eligible}, down ${ev.down} (${percent(ev.ratio)})`];
  const reasons = Object.entries(ev.reasons).map(([r, n]) => `${r} ${n}`);
  if (reasons.length > 0) parts.push(reasons.join(', '));
  if (ev.latency_ratio !== undefined) parts.push(`latency ${latencyRatio(ev.latency_ratio)}`);
  if (ev.asns && ev.asns.length > 0) parts.push(`ASNs ${ev.asns.join(', ')}`);
  if (ev.categories && ev.categories.length > 0) parts.push(`categories ${ev.categories.join(', ')}`);
  if (ev.targets && ev.targets.length > 0) parts.push(`targets ${ev.targets.join(', ')}`);
  return parts.join('; ');
}

const PHASES = ['dns', 'connect', 'tls', 'ttfb', 'total'] as const;

/** Milliseconds per phase, "3/10/-/40/75" (dns/connect/tls/ttfb/total). */
export function phases(r: ProbeResult): string {
  return PHASES.map((p) => {
    const s = r.phases[p];
    return s === undefined ? '-' : String(Math.round(s * 1000));
  }).join('/');
}

export const PHASES_HEADING = `${PHASES.join('/')}, ms`;

/** The result in a word: "ok", or its failure reason (with the HTTP status when one came). */
export function outcome(r: ProbeResult): string {
  if (r.ok) return 'ok';
  return r.status !== undefined ? `${r.reason ?? 'failed'} ${r.status}` : (r.reason ?? 'failed');
}
