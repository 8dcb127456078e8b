/**
 * GET /api/v1/series (docs/api.md): the 1-minute history of the lines matching the filters,
 * every minute of the range (a minute without data has `targets` 0 and null ratios). The
 * range defaults to the last 24 hours and may span at most the history's window.
 */
import { HOUR_MS } from '../history/window.js';
import type { SeriesLine, SeriesQuery, SeriesReader } from '../history/types.js';
import { checkParams, countryParam, parseIsoTime, PATH_ERROR, PATH_NAME, type ApiRoute } from './api.js';
import type { JsonResponse } from './server.js';

const PARAMS = ['country', 'asn', 'category', 'path', 'from', 'to'] as const;
const CATEGORY = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
const TIME_ERROR = 'must be an ISO 8601 time with a zone, such as 2019-06-09T05:00:00Z';

/** Parses the series query (to defaults to `now`, from to 24 hours before to); a string names what is wrong. */
export function parseSeriesQuery(query: URLSearchParams, now: number, maxRangeMs: number): SeriesQuery | string {
  const bad = checkParams(query, PARAMS);
  if (bad !== null) return bad;
  const out: Partial<SeriesQuery> = {};
  const country = countryParam(query);
  if (country.problem !== null) return country.problem;
  if (country.value !== null) out.country = country.value;
  const asn = query.get('asn');
  if (asn !== null) {
    const n = /^\d{1,10}$/.test(asn) ? Number(asn) : NaN;
    if (!(n <= 4_294_967_295)) return 'asn: must be an AS number such as 9198';
    out.asn = n;
  }
  const category = query.get('category');
  if (category !== null) {
    if (!CATEGORY.test(category)) return 'category: must be a category slug such as streaming';
    out.category = category;
  }
  const path = query.get('path');
  if (path !== null) {
    if (path !== '' && !PATH_NAME.test(path)) return `path: ${PATH_ERROR}`;
    out.path = path;
  }
  const to = query.has('to') ? parseIsoTime(query.get('to') ?? '') : now;
  if (Number.isNaN(to)) return `to: ${TIME_ERROR}`;
  const from = query.has('from') ? parseIsoTime(query.get('from') ?? '') : to - 24 * HOUR_MS;
  if (Number.isNaN(from)) return `from: ${TIME_ERROR}`;
  if (from >= to) return 'from: must be before to';
  if (to - from > maxRangeMs) return `from: the range may span at most ${Math.floor(maxRangeMs / HOUR_MS)} hours`;
  return { ...out, from, to };
}

/** A line as the API answers it: times as ISO 8601 strings. */
function toJson(line: SeriesLine): unknown {
  return { key: line.key, points: line.points.map((p) => ({ ...p, t: new Date(p.t).toISOString() })) };
}

export function seriesRoute(reader: SeriesReader & { readonly minutes: number }, now: () => number = Date.now): ApiRoute {
  return (query): JsonResponse => {
    const q = parseSeriesQuery(query, now(), reader.minutes * 60_000);
    if (typeof q === 'string') return { status: 400, body: { error: q } };
    return {
      status: 200,
      body: { from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString(), step_seconds: 60, lines: reader.query(q).map(toJson) },
    };
  };
}
