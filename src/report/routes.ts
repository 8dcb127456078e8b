/**
 * The chart and report endpoints (docs/api.md), as prefix routes of the daemon's listener:
 *   GET /api/v1/charts/country/{CC}.{svg,png}?hours=24&path=   the status page's country chart
 *   GET /api/v1/events/{id}/report.{svg,png,csv,md}            an event's report
 * Reading the history and building a spec happen on the event loop (bounded: one country, at
 * most 7 days of minutes); drawing happens in the renderer's worker. An unknown event or country
 * answers 404, a bad parameter 400 naming it, a full render queue 503 with Retry-After (the
 * chart last drawn for the same country is served instead when there is one).
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { DisruptionEvent } from '../detect/events.js';
import type { SeriesReader } from '../history/types.js';
import type { RawResponse, RawRouteHandler } from '../server/server.js';
import { PATH_ERROR, PATH_NAME } from '../server/api.js';
import { buildChartSpec } from '../chart/spec.js';
import { RenderBusyError, RenderError, type ChartRenderer } from '../chart/renderer.js';
import { selectLines } from './report-data.js';
import type { ReportContext } from './markdown.js';
import { buildReport, CONTENT_TYPES, fileSlug, REPORT_FORMATS, reportBody, type ReportFormat } from './report.js';
import { countryName, countryZone } from './time-zone.js';

export interface ReportRouteInputs {
  /** Every stored event (latest version of each). */
  events: () => readonly DisruptionEvent[];
  series: SeriesReader;
  context: () => ReportContext;
  renderer: ChartRenderer;
  now: () => number;
}

export const CHART_PREFIX = '/api/v1/charts/country/';
export const REPORT_PREFIX = '/api/v1/events/';
/** Longest country chart window (the history keeps 7 days). */
export const MAX_CHART_HOURS = 168;
const LAST_GOOD_CHARTS = 64;

/** The prefix routes to hand to createServer. */
export function reportRoutes(s: ReportRouteInputs): Record<string, RawRouteHandler> {
  const lastGood = new Map<string, Buffer>();
  return {
    [CHART_PREFIX]: (query, req) => countryChart(s, lastGood, query, urlPathOf(req)),
    [REPORT_PREFIX]: (_query, req) => eventReport(s, urlPathOf(req)),
  };
}

async function eventReport(s: ReportRouteInputs, urlPath: string): Promise<RawResponse> {
  const m = /^\/api\/v1\/events\/([^/]+)\/report\.([a-z]+)$/.exec(urlPath);
  if (!m) return jsonError(404, 'not found');
  const format = m[2] as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) return jsonError(404, `report.${m[2]}: no such format (use svg, png, csv or md)`);
  let id: string;
  try {
    id = decodeURIComponent(m[1] as string);
  } catch {
    return jsonError(400, 'id: not a valid percent-encoded event id');
  }
  const event = s.events().find((e) => e.id === id);
  if (event === undefined) return jsonError(404, `event ${JSON.stringify(id)} not found`);
  const report = buildReport(event, s.series, s.context(), s.now());
  return drawn(() => reportBody(report, format, s.renderer), format, { 'Content-Disposition': `inline; filename="${fileSlug(event.id)}.${format}"` });
}

async function countryChart(s: ReportRouteInputs, lastGood: Map<string, Buffer>, query: URLSearchParams, urlPath: string): Promise<RawResponse> {
  const m = /^\/api\/v1\/charts\/country\/([A-Z]{2})\.(svg|png)$/.exec(urlPath);
  if (!m) return jsonError(404, 'not found: use /api/v1/charts/country/{CC}.svg with an upper-case ISO 3166-1 alpha-2 code');
  const [, country, format] = m as unknown as [string, string, 'svg' | 'png'];
  const params = chartParams(query);
  if (typeof params === 'string') return jsonError(400, params);
  const now = s.now();
  const to = Math.ceil((now + 1) / 60_000) * 60_000;
  const from = to - params.hours * 3600_000;
  const lines = s.series.query({ country, path: params.path, from, to });
  if (lines.length === 0) return jsonError(404, `country ${country}: no history on ${params.path === '' ? 'the default route' : `path ${params.path}`} in the last ${params.hours} hours`);
  const events = s.events().filter((e) => e.country === country && (e.path ?? '') === params.path && (e.ended_at === null || Date.parse(e.ended_at) > from));
  const group = `${format}:${country}:${params.path}:${params.hours}`;
  const key = `${group}:${to}:${events.map((e) => `${e.id}/${e.ended_at}`).join(',')}`;
  const zone = countryZone(country, now);
  const spec = (): ReturnType<typeof buildChartSpec> =>
    buildChartSpec({
      title: `${countryName(country)} (${country}), last ${params.hours} hours`,
      subtitle: `reachability and latency per minute${params.path === '' ? '' : `, path ${params.path}`}; events shaded`,
      from,
      to,
      lines: selectLines(lines, new Set(), new Set()),
      bands: events.map((e) => ({ from: Date.parse(e.started_at), to: e.ended_at === null ? to : Date.parse(e.ended_at), label: `${e.kind}${e.mechanism === null ? '' : ` (${e.mechanism})`}` })),
      ...(zone === null ? {} : { zone: { name: zone.name, offsetMs: zone.offsetMs } }),
    });
  const answer = await drawn(() => s.renderer.render({ key, format, spec }), format, {});
  if (answer.status === 200) remember(lastGood, group, answer.body as Buffer);
  else if (answer.status === 503 && lastGood.has(group)) return { status: 200, headers: chartHeaders(format, {}), body: lastGood.get(group) as Buffer };
  return answer;
}

function chartParams(query: URLSearchParams): { hours: number; path: string } | string {
  for (const key of query.keys()) {
    if (key !== 'hours' && key !== 'path') return `${key}: unknown parameter (use hours, path)`;
    if (query.getAll(key).length > 1) return `${key}: given more than once`;
  }
  const hoursText = query.get('hours') ?? '24';
  const hours = /^\d{1,3}$/.test(hoursText) ? Number(hoursText) : NaN;
  if (!(hours >= 1 && hours <= MAX_CHART_HOURS)) return `hours: must be a whole number from 1 to ${MAX_CHART_HOURS}`;
  const path = query.get('path') ?? '';
  if (path !== '' && !PATH_NAME.test(path)) return `path: ${PATH_ERROR}`;
  return { hours, path };
}

/** Runs a draw and turns the renderer's refusals into answers. */
async function drawn(draw: () => Promise<Buffer>, format: ReportFormat, extra: OutgoingHttpHeaders): Promise<RawResponse> {
  try {
    return { status: 200, headers: chartHeaders(format, extra), body: await draw() };
  } catch (err) {
    if (err instanceof RenderBusyError) return jsonError(503, err.message, { 'Retry-After': '5' });
    if (err instanceof RenderError) return jsonError(500, err.message);
    throw err;
  }
}

function chartHeaders(format: ReportFormat, extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return {
    ...extra,
    'Content-Type': CONTENT_TYPES[format],
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // An SVG opened on its own is a document: it may style itself, never run or fetch anything.
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  };
}

function jsonError(status: number, message: string, headers: OutgoingHttpHeaders = {}): RawResponse {
  return { status, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }, body: `${JSON.stringify({ error: message })}\n` };
}

function remember(map: Map<string, Buffer>, key: string, body: Buffer): void {
  map.delete(key);
  map.set(key, body);
  for (const k of map.keys()) {
    if (map.size <= LAST_GOOD_CHARTS) break;
    map.delete(k);
  }
}

function urlPathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0] ?? '/';
}
