/**
 * The /api/v1 read endpoints (docs/api.md): the detector's status and the event timeline.
 * Handlers are pure functions of their inputs and the query string; a bad filter answers 400
 * with {"error": "<param>: <what is wrong>"}.
 */
import { countryCodeProblem } from '../config/country.js';
import { EVENT_KINDS, type DisruptionEvent, type EventKind } from '../detect/events.js';
import type { JsonResponse } from './server.js';

export interface ApiInputs {
  /** Every stored event, latest version of each, in timeline order. */
  events: () => readonly DisruptionEvent[];
  /** The detector's current status (GET /api/v1/status). */
  status: () => unknown;
}

interface EventFilter {
  active?: boolean;
  country?: string;
  kind?: EventKind;
  /** Source binding name; "" for the default route (events without `path`). */
  path?: string;
  /** Epoch ms: events still open at or after this time (ended_at null or >= since). */
  since?: number;
}

const KNOWN_PARAMS = ['active', 'country', 'kind', 'path', 'since'] as const;
const KINDS: ReadonlySet<string> = new Set(EVENT_KINDS);

/** A parameter name as an error names it: as given, or JSON-quoted when empty or not a plain word. */
function paramName(key: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(key) ? key : JSON.stringify(key);
}

/** The first unknown or repeated parameter as an error message, or null when there is none. */
export function checkParams(query: URLSearchParams, known: readonly string[]): string | null {
  for (const key of query.keys()) {
    if (!known.includes(key)) return `${paramName(key)}: unknown parameter (use ${known.join(', ')})`;
    if (query.getAll(key).length > 1) return `${key}: given more than once`;
  }
  return null;
}

export const COUNTRY_CODE = /^[A-Z]{2}$/;

/** The `country` parameter, when given: an ISO 3166-1 alpha-2 code, or a problem naming the parameter. */
export function countryParam(query: URLSearchParams): { value: string | null; problem: string | null } {
  const value = query.get('country');
  if (value === null) return { value: null, problem: null };
  const problem = countryCodeProblem(value);
  return problem === null ? { value, problem: null } : { value: null, problem: `country: ${problem}` };
}
export const PATH_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;
export const PATH_ERROR = 'must be a source name such as isp-a, or empty for the default route';

/**
 * Epoch ms of an ISO 8601 time with a zone, or NaN. An unencoded "+" in an offset arrives as a
 * space: it is taken as the "+" that was meant.
 */
export function parseIsoTime(text: string): number {
  const t = text.replace(' ', '+');
  // Date.parse accepts far more than ISO 8601; insist on a full date and time with a zone.
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t) ? Date.parse(t) : NaN;
}

/** Parses the events query; returns the filter or an error message naming the parameter. */
export function parseEventFilter(query: URLSearchParams): EventFilter | string {
  const filter: EventFilter = {};
  const bad = checkParams(query, KNOWN_PARAMS);
  if (bad !== null) return bad;
  const active = query.get('active');
  if (active !== null) {
    if (active !== 'true' && active !== 'false') return 'active: must be true or false';
    filter.active = active === 'true';
  }
  const country = countryParam(query);
  if (country.problem !== null) return country.problem;
  if (country.value !== null) filter.country = country.value;
  const kind = query.get('kind');
  if (kind !== null) {
    if (!KINDS.has(kind)) return `kind: must be one of ${EVENT_KINDS.join(', ')}`;
    filter.kind = kind as EventKind;
  }
  const path = query.get('path');
  if (path !== null) {
    if (path !== '' && !PATH_NAME.test(path)) return `path: ${PATH_ERROR}`;
    filter.path = path;
  }
  const since = query.get('since');
  if (since !== null) {
    const ms = parseIsoTime(since);
    if (Number.isNaN(ms)) return 'since: must be an ISO 8601 time with a zone, such as 2019-06-09T05:00:00Z';
    filter.since = ms;
  }
  return filter;
}

function matches(e: DisruptionEvent, f: EventFilter): boolean {
  if (f.active !== undefined && (e.ended_at === null) !== f.active) return false;
  if (f.country !== undefined && e.country !== f.country) return false;
  if (f.kind !== undefined && e.kind !== f.kind) return false;
  if (f.path !== undefined && (e.path ?? '') !== f.path) return false;
  if (f.since !== undefined && e.ended_at !== null && Date.parse(e.ended_at) < f.since) return false;
  return true;
}

/** A synchronous GET route; assignable to the server's RouteHandler. */
export type ApiRoute = (query: URLSearchParams) => JsonResponse;

/** The GET routes to hand to createServer. */
export function apiRoutes(inputs: ApiInputs): Record<string, ApiRoute> {
  return {
    '/api/v1/status': (): JsonResponse => ({ status: 200, body: inputs.status() }),
    '/api/v1/events': (query): JsonResponse => {
      const filter = parseEventFilter(query);
      if (typeof filter === 'string') return { status: 400, body: { error: filter } };
      return { status: 200, body: { events: inputs.events().filter((e) => matches(e, filter)) } };
    },
  };
}
