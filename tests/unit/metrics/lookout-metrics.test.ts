import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import { createMetrics, type LookoutMetrics } from '../../../src/metrics/lookout-metrics.js';
import * as names from '../../../src/metrics/names.js';
import type { FailureReason } from '../../../src/probers/reasons.js';
import type { ProbeResult } from '../../../src/probers/types.js';
import { parseExposition as parse, type Sample } from '../../fixtures/exposition.js';

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = find(samples, name, labels);
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

async function scrape(m: LookoutMetrics): Promise<Sample[]> {
  return parse(await m.registry.metrics());
}

function target(over: Partial<ResolvedTarget> & { id: string }): ResolvedTarget {
  return {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 443,
    country: 'KZ',
    category: 'government',
    asn: 9198,
    control: false,
    file: 'kz.yaml',
    ...over,
  } as ResolvedTarget;
}

function ok(t: ResolvedTarget, phases: ProbeResult['phases'], extra: Partial<ProbeResult> = {}): ProbeResult {
  return { target: t.id, kind: t.kind, ok: true, reason: null, phases, ip: '127.0.0.1', at: 0, ...extra };
}

function fail(t: ResolvedTarget, reason: FailureReason, phases: ProbeResult['phases']): ProbeResult {
  return { target: t.id, kind: t.kind, ok: false, reason, phases, ip: '127.0.0.1', at: 0 };
}

function metrics(opts: { targets?: () => readonly ResolvedTarget[]; inFlight?: () => number } = {}): LookoutMetrics {
  return createMetrics({
    vantage: 'fra-1',
    version: '1.2.3',
    nodeVersion: 'v20.20.0',
    targets: opts.targets ?? (() => []),
    inFlight: opts.inFlight ?? (() => 0),
  });
}

describe('recordProbe', () => {
  it('records a success: success gauge, each present phase, latency histogram and probe count', async () => {
    const m = metrics();
    const egov = target({ id: 'kz-egov', kind: 'tls', category: 'government', asn: 9198 });
    m.recordProbe(ok(egov, { dns: 0.01, connect: 0.02, tls: 0.05, total: 0.08 }, { cert_expiry: 1_800_000_000 }), egov);
    const s = await scrape(m);

    expect(find(s, names.PROBE_SUCCESS)).toEqual([
      {
        name: names.PROBE_SUCCESS,
        labels: { target: 'kz-egov', country: 'KZ', asn: '9198', category: 'government', kind: 'tls', vantage: 'fra-1' },
        value: 1,
      },
    ]);
    const phases = find(s, names.PROBE_DURATION_SECONDS, { target: 'kz-egov' });
    expect(Object.fromEntries(phases.map((p) => [p.labels.phase, p.value]))).toEqual({ dns: 0.01, connect: 0.02, tls: 0.05, total: 0.08 });
    expect(phases.every((p) => p.labels.country === 'KZ' && p.labels.kind === 'tls')).toBe(true);
    expect(value(s, `${names.PROBE_LATENCY_SECONDS}_count`, { country: 'KZ', kind: 'tls' })).toBe(1);
    expect(value(s, `${names.PROBE_LATENCY_SECONDS}_sum`, { country: 'KZ', kind: 'tls' })).toBe(0.08);
    expect(value(s, `${names.PROBE_LATENCY_SECONDS}_bucket`, { country: 'KZ', kind: 'tls', le: '0.05' })).toBe(0);
    expect(value(s, `${names.PROBE_LATENCY_SECONDS}_bucket`, { country: 'KZ', kind: 'tls', le: '0.1' })).toBe(1);
    expect(value(s, names.TLS_CERT_EXPIRY_TIMESTAMP_SECONDS, { target: 'kz-egov' })).toBe(1_800_000_000);
    expect(value(s, names.PROBES_TOTAL, { kind: 'tls' })).toBe(1);
    expect(value(s, names.PROBES_TOTAL, { kind: 'http' })).toBe(0);
    expect(find(s, names.PROBE_FAILURES_TOTAL)).toEqual([]);
  });

  it('records a failure: success 0, failure counter by reason, no latency observation, stale phases removed', async () => {
    const m = metrics();
    const yt = target({ id: 'yt-sni', kind: 'tls', country: 'US', category: 'streaming', asn: 15169 });
    m.recordProbe(ok(yt, { connect: 0.02, tls: 0.05, total: 0.07 }), yt);
    m.recordProbe(fail(yt, 'tls_reset', { connect: 0.02, total: 0.03 }), yt);
    m.recordProbe(fail(yt, 'tls_reset', { connect: 0.02, total: 0.03 }), yt);
    m.recordProbe(fail(yt, 'tls_timeout', { connect: 0.02, total: 10 }), yt);
    const s = await scrape(m);

    expect(value(s, names.PROBE_SUCCESS, { target: 'yt-sni' })).toBe(0);
    expect(find(s, names.PROBE_FAILURES_TOTAL).map((x) => x.labels)).toEqual(
      expect.arrayContaining([
        { target: 'yt-sni', country: 'US', kind: 'tls', reason: 'tls_reset', vantage: 'fra-1' },
        { target: 'yt-sni', country: 'US', kind: 'tls', reason: 'tls_timeout', vantage: 'fra-1' },
      ]),
    );
    expect(value(s, names.PROBE_FAILURES_TOTAL, { target: 'yt-sni', reason: 'tls_reset' })).toBe(2);
    expect(value(s, names.PROBE_FAILURES_TOTAL, { target: 'yt-sni', reason: 'tls_timeout' })).toBe(1);
    expect(value(s, `${names.PROBE_LATENCY_SECONDS}_count`, { country: 'US', kind: 'tls' })).toBe(1);
    // The tls phase was not reached by the last probe: its old value must not linger.
    const phases = find(s, names.PROBE_DURATION_SECONDS, { target: 'yt-sni' });
    expect(Object.fromEntries(phases.map((p) => [p.labels.phase, p.value]))).toEqual({ connect: 0.02, total: 10 });
    expect(value(s, names.PROBES_TOTAL, { kind: 'tls' })).toBe(4);
  });

  it('labels asn as "" when unknown and maps a reason outside FAILURE_REASONS to unknown', async () => {
    const m = metrics();
    const t = target({ id: 'no-asn', asn: undefined });
    m.recordProbe({ ...fail(t, 'tcp_reset', { total: 1 }), reason: 'EWEIRD' as FailureReason }, t);
    const s = await scrape(m);
    expect(value(s, names.PROBE_SUCCESS, { target: 'no-asn' })).toBe(0);
    expect(find(s, names.PROBE_SUCCESS)[0]?.labels.asn).toBe('');
    expect(find(s, names.PROBE_FAILURES_TOTAL).map((x) => x.labels.reason)).toEqual(['unknown']);
  });

  it('puts the vantage label on every series, default process and nodejs metrics included', async () => {
    const m = metrics();
    const t = target({ id: 'kz-kt-443' });
    m.recordProbe(ok(t, { connect: 0.01, total: 0.01 }), t);
    m.probeSkipped(t);
    m.schedulerLag(0.002);
    const s = await scrape(m);
    expect(s.some((x) => x.name.startsWith('process_'))).toBe(true);
    expect(s.some((x) => x.name.startsWith('nodejs_'))).toBe(true);
    expect(s.filter((x) => x.labels.vantage !== 'fra-1')).toEqual([]);
  });

  it('keeps the per-type runtime gauges but drops the gauges prom-client names *_total', async () => {
    const s = await scrape(metrics());
    expect(s.some((x) => x.name === 'nodejs_active_handles_total' || x.name === 'nodejs_active_requests_total')).toBe(false);
    expect((await metrics().registry.metrics()).split('\n')).toContain('# TYPE nodejs_active_handles gauge');
  });

  it('uses its own registry, never the global one', async () => {
    const a = metrics();
    const b = createMetrics({ vantage: 'ala-1', version: '1.2.3', nodeVersion: 'v20.20.0', targets: () => [], inFlight: () => 0 });
    const t = target({ id: 'kz-egov' });
    a.recordProbe(ok(t, { total: 0.1 }), t);
    expect(value(await scrape(a), names.PROBE_SUCCESS, { target: 'kz-egov', vantage: 'fra-1' })).toBe(1);
    expect(find(await scrape(b), names.PROBE_SUCCESS)).toEqual([]);
    expect(globalRegistry.getSingleMetric(names.PROBE_SUCCESS)).toBeUndefined();
  });
});

describe('forgetTarget', () => {
  it('removes every series of the target and leaves the others alone', async () => {
    const m = metrics();
    const gone = target({ id: 'kz-gone', kind: 'tls', country: 'KZ' });
    const stays = target({ id: 'kz-stays', kind: 'tls', country: 'KZ' });
    for (const t of [gone, stays]) {
      m.recordProbe(ok(t, { connect: 0.01, tls: 0.02, total: 0.03 }, { cert_expiry: 1_900_000_000 }), t);
      m.recordProbe(fail(t, 'tls_alert', { connect: 0.01, total: 0.02 }), t);
      m.probeSkipped(t);
    }
    m.forgetTarget(gone);
    const s = await scrape(m);
    expect(s.filter((x) => x.labels.target === 'kz-gone')).toEqual([]);
    for (const name of [names.PROBE_SUCCESS, names.PROBE_FAILURES_TOTAL, names.PROBE_SKIPPED_TOTAL, names.TLS_CERT_EXPIRY_TIMESTAMP_SECONDS]) {
      expect(find(s, name, { target: 'kz-stays' })).toHaveLength(1);
    }
    expect(find(s, names.PROBE_DURATION_SECONDS, { target: 'kz-stays' })).toHaveLength(2);
    // The shared (country, kind) latency series stays while another target still feeds it.
    expect(value(s, `${names.PROBE_LATENCY_SECONDS}_count`, { country: 'KZ', kind: 'tls' })).toBe(2);

    m.forgetTarget(stays);
    const after = await scrape(m);
    expect(after.filter((x) => x.labels.target !== undefined)).toEqual([]);
    expect(find(after, `${names.PROBE_LATENCY_SECONDS}_count`)).toEqual([]);
  });

  it('ignores a late result for the forgotten target object but records the target when a new config brings it back', async () => {
    const m = metrics();
    const old = target({ id: 'kz-egov' });
    m.recordProbe(ok(old, { total: 0.1 }), old);
    m.forgetTarget(old);
    // A probe that was in flight during the reload finishes afterwards.
    m.recordProbe(fail(old, 'tcp_timeout', { total: 10 }), old);
    m.probeSkipped(old);
    expect((await scrape(m)).filter((x) => x.labels.target === 'kz-egov')).toEqual([]);

    const back = target({ id: 'kz-egov' });
    m.recordProbe(ok(back, { total: 0.1 }), back);
    expect(value(await scrape(m), names.PROBE_SUCCESS, { target: 'kz-egov' })).toBe(1);
  });

  it('ignores results for a target forgotten before its first result', async () => {
    const m = metrics();
    const t = target({ id: 'kz-never' });
    m.forgetTarget(t);
    m.recordProbe(ok(t, { total: 0.1 }), t);
    expect((await scrape(m)).filter((x) => x.labels.target === 'kz-never')).toEqual([]);
  });

  it('replaces the series when a reload changes a target\'s labels under the same id', async () => {
    const m = metrics();
    const before = target({ id: 'moved', country: 'KZ', asn: 9198, category: 'government' });
    m.recordProbe(fail(before, 'tcp_reset', { total: 0.01 }), before);
    const after = target({ id: 'moved', country: 'UZ', asn: 8193, category: 'news' });
    m.recordProbe(ok(after, { total: 0.02 }), after);
    const s = await scrape(m);
    expect(find(s, names.PROBE_SUCCESS, { target: 'moved' }).map((x) => [x.labels.country, x.labels.asn, x.labels.category])).toEqual([
      ['UZ', '8193', 'news'],
    ]);
    expect(find(s, names.PROBE_FAILURES_TOTAL, { target: 'moved' })).toEqual([]);
    expect(find(s, `${names.PROBE_LATENCY_SECONDS}_count`).map((x) => x.labels.country)).toEqual(['UZ']);
  });
});

describe('daemon metrics', () => {
  it('reads in-flight probes and configured targets at scrape time', async () => {
    let inFlight = 3;
    let targets: ResolvedTarget[] = [target({ id: 'a', kind: 'tcp' }), target({ id: 'b', kind: 'tcp' }), target({ id: 'c', kind: 'dns' })];
    const m = metrics({ inFlight: () => inFlight, targets: () => targets });
    let s = await scrape(m);
    expect(value(s, names.PROBES_IN_FLIGHT)).toBe(3);
    expect(Object.fromEntries(find(s, names.TARGETS).map((x) => [x.labels.kind, x.value]))).toEqual({ http: 0, tcp: 2, tls: 0, dns: 1, dot: 0, doh: 0, icmp: 0 });

    inFlight = 0;
    targets = [target({ id: 'd', kind: 'http' })];
    s = await scrape(m);
    expect(value(s, names.PROBES_IN_FLIGHT)).toBe(0);
    expect(Object.fromEntries(find(s, names.TARGETS).map((x) => [x.labels.kind, x.value]))).toEqual({ http: 1, tcp: 0, tls: 0, dns: 0, dot: 0, doh: 0, icmp: 0 });
  });

  it('tracks config reloads', async () => {
    const m = metrics();
    let s = await scrape(m);
    expect(value(s, names.CONFIG_LAST_RELOAD_SUCCESSFUL)).toBe(1);
    expect(value(s, names.CONFIG_RELOADS_TOTAL, { result: 'failure' })).toBe(0);
    m.configReload(false);
    s = await scrape(m);
    expect(value(s, names.CONFIG_LAST_RELOAD_SUCCESSFUL)).toBe(0);
    expect(value(s, names.CONFIG_RELOADS_TOTAL, { result: 'failure' })).toBe(1);
    m.configReload(true);
    s = await scrape(m);
    expect(value(s, names.CONFIG_LAST_RELOAD_SUCCESSFUL)).toBe(1);
    expect(value(s, names.CONFIG_RELOADS_TOTAL, { result: 'success' })).toBe(1);
  });

  it('observes scheduler lag from milliseconds to seconds and ignores non-finite values', async () => {
    const m = metrics();
    m.schedulerLag(0.0007);
    m.schedulerLag(0.04);
    m.schedulerLag(3);
    m.schedulerLag(Number.NaN);
    const s = await scrape(m);
    expect(value(s, `${names.SCHEDULER_LAG_SECONDS}_count`)).toBe(3);
    expect(value(s, `${names.SCHEDULER_LAG_SECONDS}_bucket`, { le: '0.001' })).toBe(1);
    expect(value(s, `${names.SCHEDULER_LAG_SECONDS}_bucket`, { le: '0.05' })).toBe(2);
    expect(value(s, `${names.SCHEDULER_LAG_SECONDS}_bucket`, { le: '5' })).toBe(3);
  });

  it('counts skipped probes per target and exports build info', async () => {
    const m = metrics();
    const t = target({ id: 'slow' });
    m.probeSkipped(t);
    m.probeSkipped(t);
    const s = await scrape(m);
    expect(value(s, names.PROBE_SKIPPED_TOTAL, { target: 'slow' })).toBe(2);
    expect(find(s, names.BUILD_INFO)).toEqual([
      { name: names.BUILD_INFO, labels: { version: '1.2.3', node: 'v20.20.0', vantage: 'fra-1' }, value: 1 },
    ]);
  });

  it('names every metric with the lookout_ prefix, counters with _total', () => {
    for (const [key, name] of Object.entries(names)) {
      if (key === 'VANTAGE_LABEL') continue;
      expect(name).toMatch(/^lookout_[a-z_]+$/);
      if (key.endsWith('_TOTAL')) expect(name).toMatch(/_total$/);
    }
  });
});
