/**
 * The ground-truth report as plain text: precision and recall per event kind and perspective,
 * times, noise-only worlds, throughput, the goals, and the mismatches grouped by kind.
 */
import { EVENT_KINDS } from '../../src/detect/events.js';
import { table } from '../replay/table.js';
import { SCHEDULE } from '../replay/world.js';
import type { TruthReport } from './bench.js';
import type { Cell, EventPerspective, Spread } from './score.js';

/** The goals of issue 16 item 5. */
export const GOALS = { precision: 0.99, recall: 0.99, noiseOnlyEvents: 0, startErrorMedianS: SCHEDULE.interval / 1000, noiseOnlyExtraShare: 0.05 } as const;

const PERSPECTIVES: readonly EventPerspective[] = ['outside-in', 'inside-out'];
const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);
const pct = (x: number | null): string => (x === null ? '-' : x.toFixed(3));
const sec = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(0)}s`);

export const precisionOf = (c: Cell): number | null => ratio(c.matchedDetected, c.detected);
export const recallOf = (c: Cell): number | null => ratio(c.matchedLabels, c.labels);

/** Sum of every cell. */
export function overall(r: TruthReport): Cell {
  const sum: Cell = { labels: 0, matchedLabels: 0, detected: 0, matchedDetected: 0, wrongMechanism: 0 };
  for (const k of EVENT_KINDS) {
    for (const p of PERSPECTIVES) {
      const c = r.tally[k][p];
      sum.labels += c.labels;
      sum.matchedLabels += c.matchedLabels;
      sum.detected += c.detected;
      sum.matchedDetected += c.matchedDetected;
      sum.wrongMechanism += c.wrongMechanism;
    }
  }
  return sum;
}

const counts = (rec: Record<string, number>): string =>
  Object.entries(rec)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

const spreadText = (s: Spread | null): string => (s === null ? '-' : `p50 ${sec(s.p50)}, p90 ${sec(s.p90)}, max ${sec(s.max)} (n ${s.n})`);

/** The report; `maxMismatches` caps the listed mismatch lines (the counts are always complete). */
export function formatTruthReport(r: TruthReport, maxMismatches = 100): string {
  const out: string[] = [];
  out.push(`Ground-truth benchmark: ${r.worlds} worlds, seeds ${r.seed}..${r.seed + r.worlds - 1}`);
  out.push(`Worlds by vantage: ${counts(r.byPerspective)}; ${r.overlapping} with overlapping faults; ${r.noiseOnly.worlds} noise-only`);
  out.push(`Faults: ${counts(r.faultKinds)}`);
  out.push(`Targets: ${r.targets.total} (${r.targets.ipv6} IPv6), CDN target in ${r.targets.cdnWorlds} worlds; schedule ${SCHEDULE.interval / 1000}s interval, ${SCHEDULE.timeout / 1000}s timeout, ${SCHEDULE.confirm_delay / 1000}s confirm`);
  out.push('');
  const rows: string[][] = [];
  for (const k of EVENT_KINDS) {
    for (const p of PERSPECTIVES) {
      const c = r.tally[k][p];
      if (c.labels === 0 && c.detected === 0) continue;
      rows.push([`${k} ${p}`, String(c.labels), String(c.matchedLabels), pct(recallOf(c)), String(c.detected), String(c.matchedDetected), pct(precisionOf(c)), String(c.wrongMechanism)]);
    }
  }
  const all = overall(r);
  rows.push(['all', String(all.labels), String(all.matchedLabels), pct(recallOf(all)), String(all.detected), String(all.matchedDetected), pct(precisionOf(all)), String(all.wrongMechanism)]);
  out.push(table(['kind / perspective', 'labels', 'found', 'recall', 'events', 'right', 'precision', 'wrong mech'], rows));
  out.push('');
  out.push(`Onset delay (open evaluation - fault start): ${spreadText(r.onset)}`);
  out.push(`Start-time error |started_at - fault start|: ${spreadText(r.startError)}`);
  out.push(`Noise-only worlds: ${r.noiseOnly.worlds}, ${r.noiseOnly.withEvents} with events, ${r.noiseOnly.events} events`);
  out.push(`Adaptive probing in noise-only worlds: ${r.noiseOnly.extra} extra probes, ${r.noiseOnly.scheduled} scheduled (${(100 * extraShare(r)).toFixed(2)}%)`);
  out.push(`Throughput: ${(r.worlds / r.seconds).toFixed(1)} worlds/s, ${Math.round(r.results / r.seconds).toLocaleString('en-US')} results/s (generation + replay + scoring, one core, ${r.seconds.toFixed(1)}s)`);
  out.push('');
  out.push('Goals:');
  for (const k of EVENT_KINDS) {
    for (const p of PERSPECTIVES) {
      const c = r.tally[k][p];
      if (c.labels === 0 && c.detected === 0) continue;
      const pr = precisionOf(c);
      const rc = recallOf(c);
      const met = (pr === null || pr >= GOALS.precision) && (rc === null || rc >= GOALS.recall);
      out.push(goal(`${k} ${p}: precision and recall >= ${GOALS.precision}`, met, `${pct(pr)} / ${pct(rc)}`));
    }
  }
  out.push(goal(`events in noise-only worlds = ${GOALS.noiseOnlyEvents}`, r.noiseOnly.events === 0, String(r.noiseOnly.events)));
  out.push(goal(`extra probes in noise-only worlds < ${100 * GOALS.noiseOnlyExtraShare}% of scheduled`, extraShare(r) < GOALS.noiseOnlyExtraShare, `${(100 * extraShare(r)).toFixed(2)}%`));
  const se = r.startError?.p50;
  out.push(goal(`median start-time error <= ${GOALS.startErrorMedianS}s`, se !== undefined && se <= GOALS.startErrorMedianS, sec(se)));
  if (r.mismatches.length > 0) {
    const byKind: Record<string, number> = {};
    for (const m of r.mismatches) byKind[`${m.type} ${m.kind}`] = (byKind[`${m.type} ${m.kind}`] ?? 0) + 1;
    out.push('', `Mismatches: ${r.mismatches.length} (${counts(byKind)})`);
    out.push(`Re-run one world: npm run bench:truth -- --seed N --worlds 1 --verbose`);
    for (const m of r.mismatches.slice(0, maxMismatches)) out.push(`  ${m.type}: ${m.text}`);
    if (r.mismatches.length > maxMismatches) out.push(`  ... ${r.mismatches.length - maxMismatches} more (--show N)`);
  }
  return out.join('\n') + '\n';
}

function goal(what: string, met: boolean, got: string): string {
  return `  [${met ? 'met' : 'MISSED'}] ${what}: ${got}`;
}

function extraShare(r: TruthReport): number {
  return r.noiseOnly.scheduled === 0 ? 0 : r.noiseOnly.extra / r.noiseOnly.scheduled;
}
