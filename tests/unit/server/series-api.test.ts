import { describe, expect, it } from 'vitest';
import { History } from '../../../src/history/history.js';
import { parseSeriesQuery, seriesRoute } from '../../../src/server/series-api.js';

const NOW = Date.UTC(2019, 5, 9, 12, 0);
const WEEK = 169 * 3600 * 1000;
const parse = (q: string): ReturnType<typeof parseSeriesQuery> => parseSeriesQuery(new URLSearchParams(q), NOW, WEEK);

describe('GET /api/v1/series query', () => {
  it('defaults to the 24 hours up to now and takes every filter', () => {
    expect(parse('')).toEqual({ from: NOW - 24 * 3600 * 1000, to: NOW });
    expect(parse('country=KZ&asn=9198&category=streaming&path=isp-a&from=2019-06-09T05:00:00Z&to=2019-06-09T07:00:00%2B01:00')).toEqual({
      country: 'KZ',
      asn: 9198,
      category: 'streaming',
      path: 'isp-a',
      from: Date.UTC(2019, 5, 9, 5),
      to: Date.UTC(2019, 5, 9, 6),
    });
    expect(parse('path=')).toMatchObject({ path: '' });
  });

  it('names the parameter that is wrong', () => {
    const cases: [string, RegExp][] = [
      ['asn=-1', /^asn: /],
      ['asn=99999999999', /^asn: /],
      ['country=Kazakhstan', /^country: /],
      ['category=Social Media', /^category: /],
      ['path=-x', /^path: /],
      ['from=2019-06-09', /^from: must be an ISO 8601 time/],
      ['to=now', /^to: must be an ISO 8601 time/],
      ['from=2019-06-09T05:00:00Z&to=2019-06-09T05:00:00Z', /^from: must be before to$/],
      ['from=2019-06-01T00:00:00Z&to=2019-06-09T05:00:00Z', /^from: the range may span at most 169 hours$/],
      ['asn=1&asn=2', /^asn: given more than once$/],
      ['since=2019-06-09T05:00:00Z', /^since: unknown parameter/],
    ];
    for (const [q, error] of cases) expect({ q, answer: parse(q) }).toEqual({ q, answer: expect.stringMatching(error) as unknown });
  });

  it('answers the lines with ISO times, and 400 with the message', () => {
    const h = new History();
    h.record(NOW - 60_000, [{ key: { country: 'KZ', asn: null, category: null, path: '' }, targets: 2, up: 1, latency_ratio: null }]);
    const route = seriesRoute(h, () => NOW);
    expect(route(new URLSearchParams('country=KZ'))).toEqual({
      status: 200,
      body: {
        from: '2019-06-08T12:00:00.000Z',
        to: '2019-06-09T12:00:00.000Z',
        step_seconds: 60,
        lines: [{ key: { country: 'KZ', asn: null, category: null, path: '' }, points: [{ t: '2019-06-09T11:59:00.000Z', targets: 2, up: 1, reachability: 0.5, latency_ratio: null }] }],
      },
    });
    expect(route(new URLSearchParams('country=UZ')).body).toMatchObject({ lines: [] });
    expect(route(new URLSearchParams('asn=x'))).toEqual({ status: 400, body: { error: 'asn: must be an AS number such as 9198' } });
  });
});
