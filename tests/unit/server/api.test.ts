import { describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import { apiRoutes, parseEventFilter } from '../../../src/server/api.js';
import type { JsonResponse } from '../../../src/server/server.js';

function event(id: string, over: Partial<DisruptionEvent>): DisruptionEvent {
  return {
    id,
    kind: 'shutdown',
    country: 'KZ',
    asn: null,
    category: null,
    mechanism: 'blackhole',
    severity: 'critical',
    started_at: '2019-06-09T05:00:00.000Z',
    ended_at: null,
    summary: 'test',
    evidence: { eligible: 12, down: 11, ratio: 0.92, reasons: { tcp_timeout: 11 } },
    ...over,
  };
}

const EVENTS = [
  event('a', { kind: 'service_blocking', mechanism: 'tls', severity: 'warning', started_at: '2019-06-09T01:00:00.000Z', ended_at: '2019-06-09T04:00:00.000Z' }),
  event('b', {}),
  event('c', { country: 'BY', kind: 'partial_outage', asn: 6697, severity: 'warning', started_at: '2020-08-09T20:00:00.000Z', ended_at: '2020-08-10T02:00:00.000Z' }),
];
const routes = apiRoutes({ events: () => EVENTS, status: () => ({ vantage: { id: 'v' } }) });
const get = (path: string, q = ''): JsonResponse => routes[path]!(new URLSearchParams(q));

describe('GET /api/v1/events', () => {
  it('answers every stored event without filters', () => {
    expect(get('/api/v1/events')).toEqual({ status: 200, body: { events: EVENTS } });
  });
  it('filters by active, country, kind and since', () => {
    const ids = (q: string): string[] => ((get('/api/v1/events', q) as { body: { events: DisruptionEvent[] } }).body.events).map((e) => e.id);
    expect(ids('active=true')).toEqual(['b']);
    expect(ids('active=false')).toEqual(['a', 'c']);
    expect(ids('country=KZ')).toEqual(['a', 'b']);
    expect(ids('kind=partial_outage')).toEqual(['c']);
    // since: events that were still going on at or after that time.
    expect(ids('since=2019-06-09T04:30:00Z')).toEqual(['b', 'c']);
    expect(ids('country=KZ&active=false&kind=service_blocking')).toEqual(['a']);
  });
  it('filters by path: a source name, or empty for the default route', () => {
    const withPaths = [...EVENTS, event('b@isp-a', { path: 'isp-a' })];
    const r = apiRoutes({ events: () => withPaths, status: () => ({}) });
    const ids = (q: string): string[] => ((r['/api/v1/events']!(new URLSearchParams(q)) as { body: { events: DisruptionEvent[] } }).body.events).map((e) => e.id);
    expect(ids('path=isp-a')).toEqual(['b@isp-a']);
    expect(ids('path=')).toEqual(['a', 'b', 'c']);
    expect(ids('path=isp-b')).toEqual([]);
    expect(r['/api/v1/events']!(new URLSearchParams('path=%20x'))).toMatchObject({ status: 400, body: { error: 'path: must be a source name such as isp-a, or empty for the default route' } });
  });
  it('answers 400 naming the parameter for a bad filter', () => {
    expect(get('/api/v1/events', 'active=yes')).toEqual({ status: 400, body: { error: 'active: must be true or false' } });
    expect(get('/api/v1/events', 'country=kz')).toEqual({ status: 400, body: { error: 'country: "kz": country codes are upper case (KZ)' } });
    expect(get('/api/v1/events', 'country=UK')).toEqual({ status: 400, body: { error: 'country: "UK" is not an ISO 3166-1 alpha-2 country code (did you mean GB?)' } });
    expect(get('/api/v1/events', 'kind=outage')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^kind: must be one of shutdown, /) as unknown } });
    expect(get('/api/v1/events', 'since=yesterday').status).toBe(400);
    expect(get('/api/v1/events', 'since=2019-06-09').status).toBe(400);
    expect(get('/api/v1/events', 'limit=5')).toMatchObject({ status: 400, body: { error: 'limit: unknown parameter (use active, country, kind, path, since)' } });
    expect(get('/api/v1/events', 'country=KZ&country=BY').status).toBe(400);
  });

  it('an empty or odd parameter name is quoted, so the error still names it (found by the fuzzer)', () => {
    expect(get('/api/v1/events', '=1')).toMatchObject({ status: 400, body: { error: '"": unknown parameter (use active, country, kind, path, since)' } });
    expect(get('/api/v1/events', 'a%3A%20b=1')).toMatchObject({ status: 400, body: { error: '"a: b": unknown parameter (use active, country, kind, path, since)' } });
  });
});

describe('parseEventFilter', () => {
  it('accepts ISO times with offsets and fractions', () => {
    expect(parseEventFilter(new URLSearchParams('since=2019-06-09T10:00:00.5+05:00'))).toEqual({ since: Date.UTC(2019, 5, 9, 5, 0, 0, 500) });
  });
});

describe('GET /api/v1/status', () => {
  it('answers the status source', () => {
    expect(get('/api/v1/status')).toEqual({ status: 200, body: { vantage: { id: 'v' } } });
  });
});
