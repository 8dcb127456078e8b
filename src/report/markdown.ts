/**
 * The Markdown summary of an event report, written for someone who will publish it: what,
 * where, when (UTC and local), how long, the mechanism and the evidence counts, which vantage
 * and path saw it, and how Lookout knows. Every text that comes from config or the network
 * (target ids, categories, paths, the summary) is escaped.
 */
import type { DisruptionEvent, EventKind, Mechanism } from '../detect/events.js';
import { formatOffset } from '../chart/spec.js';
import type { EventWindow } from './report-data.js';
import { countryName, type CountryZone } from './time-zone.js';

/** Who measured, and with which settings: for the "seen from" and method lines. */
export interface ReportContext {
  vantage: { id: string; country?: string | undefined; asn?: number | undefined };
  /** The default probe interval, ms. */
  intervalMs: number;
  downAfter: number;
  openAfter: number;
  closeAfter: number;
  evaluateEveryMs: number;
}

const KIND_TEXT: Record<EventKind, string> = {
  shutdown: 'Shutdown',
  partial_outage: 'Network outage',
  service_blocking: 'Service blocking',
  degradation: 'Degradation (throttling)',
  vantage_offline: 'Vantage point offline',
};

const KIND_METHOD: Record<EventKind, string> = {
  shutdown: "most of the country's normally reachable targets stopped answering while this vantage's control targets elsewhere still answered",
  partial_outage: "most targets of one network (AS) stopped answering while the rest of the country's targets answered",
  service_blocking: 'one category of services failed with an interference signature while other categories answered',
  degradation: 'targets still answered, but their median latency rose far above their own baselines',
  vantage_offline: "this vantage's own control targets stopped answering, so no verdict on any country was given meanwhile",
};

const MECHANISM_TEXT: Record<Mechanism, string> = {
  dns: 'DNS tampering: lookups failed or returned wrong answers',
  tcp_reset: 'connections were reset or refused',
  tls: 'TLS interference: handshakes were reset, alerted or cut off',
  http: 'HTTP interference: block pages, unexpected status codes or bodies',
  blackhole: 'traffic was dropped: connections and lookups timed out',
};

/** The report's title: "Shutdown in Kazakhstan (KZ)". */
export function reportTitle(event: DisruptionEvent): string {
  const where = event.country === null ? 'at this vantage' : `in ${countryName(event.country)} (${event.country})`;
  const what = event.kind === 'partial_outage' && event.asn !== null ? `${KIND_TEXT[event.kind]} of AS${event.asn}` : event.kind === 'service_blocking' && event.category !== null ? `Blocking of ${event.category}` : KIND_TEXT[event.kind];
  return `${what} ${where}`;
}

/** The whole summary; `files` names the chart and CSV beside it (relative links). */
export function reportMarkdown(event: DisruptionEvent, window: EventWindow, zone: CountryZone | null, context: ReportContext, files: { png: string; csv: string }, now: number): string {
  const e = event.evidence;
  const rows: [string, string][] = [
    ['What', md(event.summary)],
    ['Where', where(event)],
    ['When', when(window, zone)],
    ['How long', `${duration(window.end - window.start)}${window.open ? ` so far (still going at ${utc(now)})` : ''}`],
    ['Mechanism', event.mechanism === null ? 'not named (no dominant failure reason)' : `${event.mechanism}: ${MECHANISM_TEXT[event.mechanism]}`],
    ['Evidence', evidence(event)],
    ['Seen from', seenFrom(event, context)],
    ['Severity', event.severity],
    ['Event id', `\`${event.id.replace(/`/g, '')}\``],
  ];
  if (e.targets !== undefined && e.targets.length > 0) rows.splice(6, 0, ['Targets down', e.targets.map(md).join(', ') + (e.down > e.targets.length ? ` and ${e.down - e.targets.length} more` : '')]);
  const lines = [
    `# ${md(reportTitle(event))}`,
    '',
    `![${md(reportTitle(event))}: reachability and latency per minute, the event shaded](${files.png})`,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Method',
    '',
    method(event, context),
    '',
    `The 1-minute points behind the chart are in [${files.csv}](${files.csv}); times are UTC${zone === null ? '' : ` and ${zone.name} (${formatOffset(zone.offsetMs)})`}.${zone?.note ? ` ${zone.note}` : ''}`,
    '',
  ];
  return lines.join('\n');
}

function where(event: DisruptionEvent): string {
  const parts = [event.country === null ? 'this vantage point (no country)' : `${countryName(event.country)} (${event.country})`];
  if (event.asn !== null) parts.push(`network AS${event.asn}`);
  else if (event.evidence.asns !== undefined && event.evidence.asns.length > 0) parts.push(`networks ${event.evidence.asns.map((a) => `AS${a}`).join(', ')}`);
  if (event.category !== null) parts.push(`category ${md(event.category)}`);
  else if (event.evidence.categories !== undefined && event.evidence.categories.length > 0) parts.push(`categories ${event.evidence.categories.map(md).join(', ')}`);
  return parts.join('; ');
}

function when(window: EventWindow, zone: CountryZone | null): string {
  const span = (offset: number): string => `${stamp(window.start + offset)} to ${window.open ? 'now' : stamp(window.end + offset)}`;
  const local = zone === null ? '' : ` (${span(zone.offsetMs)} ${zone.name} time, ${formatOffset(zone.offsetMs)})`;
  return `${span(0)} UTC${local}`;
}

function evidence(event: DisruptionEvent): string {
  const e = event.evidence;
  const reasons = Object.entries(e.reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${md(r)} ${n}`)
    .join(', ');
  const parts = [`${e.down} of ${e.eligible} eligible targets down (${Math.round(e.ratio * 100)}%) when last confirmed`];
  if (reasons !== '') parts.push(`failures by reason: ${reasons}`);
  if (e.latency_ratio !== undefined) parts.push(`median latency ${e.latency_ratio}x the targets' baselines`);
  return parts.join('; ');
}

function seenFrom(event: DisruptionEvent, context: ReportContext): string {
  const v = context.vantage;
  const at = [v.country, v.asn === undefined ? undefined : `AS${v.asn}`].filter((x) => x !== undefined).join(', ');
  const path = event.path === undefined ? 'the default route' : `source path ${md(event.path)}`;
  return `vantage ${md(v.id)}${at === '' ? '' : ` (${at})`}, through ${path}`;
}

function method(event: DisruptionEvent, context: ReportContext): string {
  return [
    `Lookout probed each target from vantage ${md(context.vantage.id)} every ${duration(context.intervalMs)} (HTTP, TLS, TCP, DNS or ICMP, as each target is configured)`,
    `and counted a target down after ${context.downAfter} consecutive failures, the first one confirmed by a quick re-probe.`,
    `It opened this event when ${KIND_METHOD[event.kind]}, for ${context.openAfter} consecutive evaluations (one every ${duration(context.evaluateEveryMs)}),`,
    `and closes it after the condition has been clear for ${context.closeAfter}.`,
    'The chart shows, per minute, the share of each group\'s eligible targets that answered and their latency over their own baselines;',
    'it is one vantage\'s view from outside the network, not a measurement of all traffic.',
  ].join(' ');
}

/** "2019-06-09 05:00". */
function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

function utc(ms: number): string {
  return `${stamp(ms)} UTC`;
}

/** "58 min", "2 h 05 min", "3 d 4 h", "45 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Text from config or the network, made inert in Markdown (and in the HTML it may become). */
export function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
}
