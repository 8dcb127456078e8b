import { describe, expect, it } from 'vitest';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import { registerDetectorMetrics, type DetectorView } from '../../../src/metrics/detector-metrics.js';
import { createMetrics } from '../../../src/metrics/lookout-metrics.js';
import * as names from '../../../src/metrics/names.js';
import type { ProbeResult } from '../../../src/probers/types.js';
import { Collector, evaluationOf, type SampleSink } from '../../../src/remote/collector.js';
import type { SeriesRef } from '../../../src/remote/queue.js';
import { parseExposition } from '../../fixtures/exposition.js';

// The remote write collector promises the scraped series' names and labels (docs/design.md
// "The remote write stage"): a center that receives a vantage's pushed series must be able to
// use the same queries, rules and dashboards as one that scrapes it.

/** The families remote write sends. */
const SENT = [names.PROBE_SUCCESS, names.PROBE_DURATION_SECONDS, names.VANTAGE_ONLINE, names.COUNTRY_REACHABILITY_RATIO, names.DISRUPTION_ACTIVE];

/** A series as Prometheus identifies it: its name and labels sorted, empty values left out. */
function key(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

function target(over: Partial<ResolvedTarget> & { id: string }): ResolvedTarget {
  return { kind: 'tcp', host: '127.0.0.1', port: 443, country: 'KZ', category: 'news', control: false, file: 'kz.yaml', ...over } as ResolvedTarget;
}

/** Unbound with and without an asn, a bound one (id `<id>@<path>`), another kind and country. */
const TARGETS: ResolvedTarget[] = [
  target({ id: 'kz-tcp', asn: 9198 }),
  target({ id: 'kz-http', kind: 'http', url: 'http://127.0.0.1/', category: 'government' }),
  target({ id: 'kz-tcp@isp-b', asn: 9198, path: 'isp-b' }),
  target({ id: 'uz-tls', kind: 'tls', country: 'UZ', asn: 8193, sni: 'uz.example' }),
];

function result(t: ResolvedTarget, ok: boolean, phases: ProbeResult['phases']): ProbeResult {
  return { target: t.id, kind: t.kind, ok, reason: ok ? null : 'tcp_timeout', phases, ip: '127.0.0.1', at: 1_000 };
}

const RESULTS: [ProbeResult, ResolvedTarget][] = [
  [result(TARGETS[0] as ResolvedTarget, true, { connect: 0.002, total: 0.003 }), TARGETS[0] as ResolvedTarget],
  [result(TARGETS[1] as ResolvedTarget, true, { dns: 0.001, connect: 0.002, ttfb: 0.01, total: 0.02 }), TARGETS[1] as ResolvedTarget],
  [result(TARGETS[2] as ResolvedTarget, false, { total: 0.5 }), TARGETS[2] as ResolvedTarget],
  [result(TARGETS[3] as ResolvedTarget, true, { connect: 0.004, tls: 0.01, total: 0.02 }), TARGETS[3] as ResolvedTarget],
];

function event(over: Partial<DisruptionEvent>): DisruptionEvent {
  return { kind: 'shutdown', country: 'KZ', asn: null, category: null, mechanism: 'blackhole', ...over } as DisruptionEvent;
}

/** A detector with two paths, each with its verdicts, and open events on both (two alike). */
const DETECTOR: DetectorView = {
  status: () => ({
    vantage: { online: true },
    countries: [],
    targets: [],
    paths: [
      { path: '', vantage: { online: true }, countries: [{ country: 'KZ', ratio: 0.25, latency_ratio: 1.5 }, { country: 'UZ', ratio: null, latency_ratio: null }] },
      { path: 'isp-b', vantage: { online: false }, countries: [{ country: 'KZ', ratio: 0, latency_ratio: null }] },
    ],
  }),
  active: () => [
    event({ kind: 'partial_outage', asn: 9198 }),
    event({ kind: 'service_blocking', country: null, category: 'social', mechanism: 'tcp_reset' }),
    event({ kind: 'service_blocking', country: null, category: 'social', mechanism: 'tcp_reset' }),
    event({ path: 'isp-b' }),
  ],
};

/** Every series of the sent families on /metrics, by key, with its value. */
async function scraped(): Promise<Map<string, number>> {
  const metrics = createMetrics({ vantage: 'kz-1', version: '0', nodeVersion: 'v0', targets: () => TARGETS, inFlight: () => 0 });
  registerDetectorMetrics(metrics.registry, () => DETECTOR);
  for (const [r, t] of RESULTS) metrics.recordProbe(r, t);
  const out = new Map<string, number>();
  for (const s of parseExposition(await metrics.registry.metrics())) {
    if (SENT.includes(s.name)) out.set(key(s.name, s.labels), s.value);
  }
  return out;
}

/** Every series the collector sends for the same results and evaluation, by key, with its value. */
function pushed(): Map<string, number> {
  const out = new Map<string, number>();
  const sink: SampleSink = {
    append(series: SeriesRef, _ts: number, value: number) {
      const labels = Object.fromEntries(series.labels.filter((l) => l.name !== '__name__').map((l) => [l.name, l.value]));
      const name = series.labels.find((l) => l.name === '__name__')?.value ?? '';
      out.set(key(name, labels), value);
    },
  };
  const collector = new Collector('kz-1', () => [sink]);
  for (const [r, t] of RESULTS) collector.probe(r, t);
  collector.evaluation(5_000, evaluationOf(DETECTOR));
  return out;
}

describe('remote write series and scraped series', () => {
  it('have identical names and label sets (and values) for the same targets, results and evaluation', async () => {
    const scrape = await scraped();
    const push = pushed();
    // Not vacuous: every sent family is there, with bound and unbound, asn-less and path series.
    for (const name of SENT) expect([...push.keys()].some((k) => k.startsWith(`${name}{`))).toBe(true);
    // 4 success, 10 phase, 2 online, 2 ratio (UZ has none), 3 disruption series (two events share one).
    expect(push.size).toBe(21);
    expect([...push.keys()].sort()).toEqual([...scrape.keys()].sort());
    expect(Object.fromEntries(push)).toEqual(Object.fromEntries(scrape));
  });

  it('agree on a series of each family written out in full', () => {
    const push = pushed();
    expect([...push.keys()]).toEqual(
      expect.arrayContaining([
        'lookout_probe_success{asn="9198",category="news",country="KZ",kind="tcp",path="isp-b",target="kz-tcp",vantage="kz-1"}',
        'lookout_probe_success{category="government",country="KZ",kind="http",target="kz-http",vantage="kz-1"}',
        'lookout_probe_duration_seconds{country="UZ",kind="tls",phase="tls",target="uz-tls",vantage="kz-1"}',
        'lookout_vantage_online{path="isp-b",vantage="kz-1"}',
        'lookout_country_reachability_ratio{country="KZ",vantage="kz-1"}',
        'lookout_disruption_active{category="social",kind="service_blocking",mechanism="tcp_reset",vantage="kz-1"}',
        'lookout_disruption_active{asn="9198",country="KZ",kind="partial_outage",mechanism="blackhole",vantage="kz-1"}',
      ]),
    );
    expect(push.get('lookout_disruption_active{category="social",kind="service_blocking",mechanism="tcp_reset",vantage="kz-1"}')).toBe(2);
  });
});
