import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedTarget } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/lookout-metrics.js';
import type { FailureReason } from '../../src/probers/reasons.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { createServer, type LookoutServer } from '../../src/server/server.js';
import { promtoolCheckMetrics as promtoolCheck } from '../fixtures/promtool.js';

const base = { control: false, file: 'probes.yaml' } as const;
const TARGETS: ResolvedTarget[] = [
  { ...base, id: 'kz-egov', kind: 'http', url: 'https://egov.kz/', country: 'KZ', asn: 9198, category: 'government', method: 'GET', headers: {}, insecure_skip_verify: false, follow_redirects: false, body_limit: 65536, expect: { status: [200, 399] } },
  { ...base, id: 'kz-kt-dns', kind: 'dns', server: '127.0.0.53:53', query: { name: 'egov.kz', type: 'A' }, country: 'KZ', asn: 9198, category: 'infrastructure', expect: { rcode: 'NOERROR' } },
  { ...base, id: 'kz-kt-443', kind: 'tcp', host: '127.0.0.1', port: 443, country: 'KZ', asn: 9198, category: 'infrastructure' },
  { ...base, id: 'kz-yt-sni', kind: 'tls', host: '127.0.0.1', port: 443, sni: 'www.youtube.com', country: 'KZ', category: 'streaming', insecure_skip_verify: false },
  { ...base, id: 'ctl-1', kind: 'tcp', host: '127.0.0.1', port: 53, country: 'DE', category: 'control', control: true },
];

function target(id: string): ResolvedTarget {
  const t = TARGETS.find((x) => x.id === id);
  if (!t) throw new Error(`no target ${id}`);
  return t;
}

function result(id: string, ok: boolean, phases: ProbeResult['phases'], reason: FailureReason | null = null, extra: Partial<ProbeResult> = {}): ProbeResult {
  return { target: id, kind: target(id).kind, ok, reason, phases, ip: '127.0.0.1', at: 1_560_038_400_000, ...extra };
}

let server: LookoutServer | null = null;
afterEach(async () => {
  await server?.close(0);
  server = null;
});

describe('promtool check metrics', () => {
  it('accepts the whole /metrics output after a realistic mix of probes', async () => {
    const metrics = createMetrics({ vantage: 'fra-1', version: '0.1.0', nodeVersion: 'v20.20.0', targets: () => TARGETS, inFlight: () => 4 });
    const record = (r: ProbeResult): void => metrics.recordProbe(r, target(r.target));
    record(result('kz-egov', true, { dns: 0.004, connect: 0.03, tls: 0.06, ttfb: 0.2, total: 0.25 }, null, { status: 200, cert_expiry: 1_800_000_000 }));
    record(result('kz-egov', false, { dns: 0.004, connect: 0.03, tls: 0.06, ttfb: 0.2, total: 0.21 }, 'http_blockpage', { status: 200 }));
    record(result('kz-egov', false, { dns: 0.004, connect: 10, total: 10 }, 'tcp_timeout'));
    record(result('kz-kt-dns', true, { dns: 0.02, total: 0.02 }));
    record(result('kz-kt-dns', false, { dns: 0.01, total: 0.01 }, 'dns_bogon_answer'));
    record(result('kz-kt-dns', false, { dns: 5, total: 5 }, 'dns_timeout'));
    record(result('kz-kt-443', true, { connect: 0.05, total: 0.05 }));
    record(result('kz-kt-443', false, { total: 0.001 }, 'tcp_reset'));
    record(result('kz-yt-sni', false, { connect: 0.04, tls: 0.01, total: 0.05 }, 'tls_reset'));
    record(result('kz-yt-sni', false, { connect: 0.04, tls: 0.02, total: 0.06 }, 'tls_alert'));
    record(result('kz-yt-sni', true, { connect: 0.04, tls: 0.08, total: 0.12 }, null, { cert_expiry: 1_750_000_000 }));
    record(result('ctl-1', true, { connect: 0.001, total: 0.001 }));
    metrics.probeSkipped(target('kz-egov'));
    metrics.schedulerLag(0.0004);
    metrics.schedulerLag(0.3);
    metrics.configReload(false);
    metrics.configReload(true);

    server = createServer({
      listen: '127.0.0.1:0',
      adminToken: null,
      registry: metrics.registry,
      ready: () => true,
      reload: () => Promise.resolve({ ok: true, problems: [] }),
      log: silentLogger(),
    });
    const { port } = await server.listen();
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    // The realistic mix really is in there: failures by several reasons, every kind, lag, skip.
    for (const needle of ['reason="tls_reset"', 'reason="dns_bogon_answer"', 'reason="http_blockpage"', 'lookout_probe_skipped_total{', 'lookout_scheduler_lag_seconds_bucket{']) {
      expect(text).toContain(needle);
    }

    const check = await promtoolCheck(text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  it('flags a badly named metric, so the check above can fail', async () => {
    const registry = new Registry();
    const { Counter } = await import('prom-client');
    new Counter({ name: 'lookout_bad_count', help: 'A counter without the _total suffix.', registers: [registry] }).inc();
    const check = await promtoolCheck(await registry.metrics());
    expect(check.output).toContain('lookout_bad_count');
  });
});
