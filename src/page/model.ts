/**
 * What the status page shows, gathered from the detector's last evaluation, the event timeline
 * and the recent results: never from a probe in flight, and nothing here awaits anything.
 */
import { EVENT_KINDS, type DisruptionEvent, type EventKind } from '../detect/events.js';
import type { CountryStatus } from '../detect/detector.js';
import type { PathsStatus, PathVantageState } from '../detect/paths.js';
import type { ResolvedTarget } from '../config/schema.js';
import { COUNTRY_CODE } from '../server/api.js';
import type { Recent, RecentResults } from './recent-results.js';

export interface PageInputs {
  vantageId: string;
  status(): PathsStatus;
  vantageStates(): PathVantageState[];
  /** Every event, latest version of each, in timeline order. */
  events(): readonly DisruptionEvent[];
  target(id: string): Pick<ResolvedTarget, 'kind' | 'path'> | undefined;
  recent: Pick<RecentResults, 'of'>;
  /** How often the page's script refreshes it. */
  refreshSeconds: number;
  now(): number;
}

export type Verdict = 'online' | 'offline' | 'starting';

export interface VantageLine {
  path: string;
  verdict: Verdict;
  /** Why, in words: the controls' counts and failure reasons. */
  why: string;
}

export interface CountryRow extends CountryStatus {
  path: string;
}

export interface TargetRow {
  id: string;
  path: string;
  country: string;
  kind: string;
  state: string;
  control: boolean;
  /** The newest result and the recent outcomes, newest first. */
  recent: Recent;
}

export interface EventFilter {
  country?: string;
  kind?: EventKind;
}

export interface PageModel {
  vantageId: string;
  at: number;
  refreshSeconds: number;
  multiPath: boolean;
  vantage: VantageLine[];
  countries: CountryRow[];
  /** Countries with a chart (the default path's, by code). */
  chartCountries: string[];
  filter: EventFilter;
  /** Set when a filter parameter was not understood (it is then ignored). */
  filterProblem: string | null;
  /** Open events first (newest first), then closed ones (newest first). */
  events: DisruptionEvent[];
  /** Every country and kind an event or a country row names, for the filter's choices. */
  eventCountries: string[];
  targets: TargetRow[];
}

const KINDS: ReadonlySet<string> = new Set(EVENT_KINDS);

/** The page's own filter: unknown parameters are ignored, bad values reported and ignored. */
export function parseFilter(query: URLSearchParams): { filter: EventFilter; problem: string | null } {
  const filter: EventFilter = {};
  const problems: string[] = [];
  const country = query.get('country') ?? '';
  if (country !== '') {
    if (COUNTRY_CODE.test(country)) filter.country = country;
    else problems.push('country: not an ISO 3166-1 alpha-2 code');
  }
  const kind = query.get('kind') ?? '';
  if (kind !== '') {
    if (KINDS.has(kind)) filter.kind = kind as EventKind;
    else problems.push(`kind: not one of ${EVENT_KINDS.join(', ')}`);
  }
  return { filter, problem: problems.length > 0 ? problems.join('; ') : null };
}

export function vantageLine(v: PathVantageState, anyControls: boolean): VantageLine {
  const reasons = Object.entries(v.reasons)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  if (v.online === true) return { path: v.path, verdict: 'online', why: `${v.controls - v.failing} of ${v.controls} controls answer` };
  if (v.online === false) return { path: v.path, verdict: 'offline', why: `${v.failing} of ${v.controls} controls fail${reasons ? ` (${reasons})` : ''}` };
  return { path: v.path, verdict: 'starting', why: anyControls ? 'waiting for the controls to answer' : 'no control targets configured: the verdict cannot be made' };
}

export function buildModel(src: PageInputs, query: URLSearchParams): PageModel {
  const status = src.status();
  const { filter, problem } = parseFilter(query);
  const anyControls = status.targets.some((t) => t.control);
  const countries: CountryRow[] = status.paths
    ? status.paths.flatMap((p) => p.countries.map((c) => ({ ...c, path: p.path })))
    : status.countries.map((c) => ({ ...c, path: '' }));
  const all = src.events();
  const events = all.filter((e) => (filter.country === undefined || e.country === filter.country) && (filter.kind === undefined || e.kind === filter.kind));
  const eventCountries = new Set<string>(status.countries.map((c) => c.country));
  for (const e of all) if (e.country !== null) eventCountries.add(e.country);
  return {
    vantageId: src.vantageId,
    at: src.now(),
    refreshSeconds: src.refreshSeconds,
    multiPath: status.paths !== undefined,
    vantage: src.vantageStates().map((v) => vantageLine(v, anyControls)),
    countries,
    chartCountries: status.countries.filter((c) => c.country !== 'ZZ').map((c) => c.country),
    filter,
    filterProblem: problem,
    events: openFirst(events),
    eventCountries: [...eventCountries].sort(),
    targets: status.targets.map((t) => {
      const conf = src.target(t.id);
      return { id: t.id, path: conf?.path ?? '', country: t.country, kind: conf?.kind ?? '', state: t.state, control: t.control, recent: src.recent.of(t.id) };
    }),
  };
}

function openFirst(events: readonly DisruptionEvent[]): DisruptionEvent[] {
  const open = events.filter((e) => e.ended_at === null);
  const closed = events.filter((e) => e.ended_at !== null);
  const newest = (a: DisruptionEvent, b: DisruptionEvent): number => b.started_at.localeCompare(a.started_at) || a.id.localeCompare(b.id);
  return [...open.sort(newest), ...closed.sort(newest)];
}
