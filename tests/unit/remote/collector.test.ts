import { describe, expect, it } from 'vitest';
import { TcpTarget, type ResolvedTarget } from '../../../src/config/schema.js';
import { Collector, type SampleSink } from '../../../src/remote/collector.js';
import type { SeriesRef } from '../../../src/remote/queue.js';

function sink(): SampleSink & { got: string[] } {
  const got: string[] = [];
  return {
    got,
    append(series: SeriesRef, ts: number, value: number) {
      got.push(`${series.labels.map((l) => `${l.name}=${l.value}`).join(',')}@${ts}=${value}`);
    },
  };
}

const target = { id: 'kz-news', kind: 'http', url: 'http://127.0.0.1/', country: 'KZ', category: 'news', control: false, file: 'x.yaml' } as unknown as ResolvedTarget;

describe('remote write collector', () => {
  it('turns a probe result into success and phase samples at the time it was measured, labels sorted, empty ones left out', () => {
    const s = sink();
    const c = new Collector('kz-1', () => [s]);
    c.probe({ target: 'kz-news', kind: 'http', ok: true, reason: null, phases: { dns: 0.001, total: 0.2 }, ip: '127.0.0.1', at: 1000 }, target);
    expect(s.got).toEqual([
      '__name__=lookout_probe_success,category=news,country=KZ,kind=http,target=kz-news,vantage=kz-1@1000=1',
      '__name__=lookout_probe_duration_seconds,country=KZ,kind=http,phase=dns,target=kz-news,vantage=kz-1@1000=0.001',
      '__name__=lookout_probe_duration_seconds,country=KZ,kind=http,phase=total,target=kz-news,vantage=kz-1@1000=0.2',
    ]);
  });

  it('sends each evaluation once: online, ratios, open events, and a 0 when an event closes', () => {
    const s = sink();
    const c = new Collector('kz-1', () => [s]);
    const event = { kind: 'shutdown', country: 'KZ', asn: null, category: null, mechanism: 'gateway_cut' } as never;
    const one = (online: boolean, countries: { country: string; ratio: number | null }[]) => [{ path: '', online, countries }];
    c.evaluation(5000, { paths: one(true, [{ country: 'KZ', ratio: 0.1 }, { country: 'UZ', ratio: null }]), active: [event] });
    c.evaluation(5000, { paths: one(true, []), active: [] });
    c.evaluation(10_000, { paths: one(false, []), active: [] });
    expect(s.got).toEqual([
      '__name__=lookout_vantage_online,vantage=kz-1@5000=1',
      '__name__=lookout_country_reachability_ratio,country=KZ,vantage=kz-1@5000=0.1',
      '__name__=lookout_disruption_active,country=KZ,kind=shutdown,mechanism=gateway_cut,vantage=kz-1@5000=1',
      '__name__=lookout_vantage_online,vantage=kz-1@10000=0',
      '__name__=lookout_disruption_active,country=KZ,kind=shutdown,mechanism=gateway_cut,vantage=kz-1@10000=0',
    ]);
  });

  it('with source bindings, every path is its own series: the path label on targets, verdicts and events', () => {
    const s = sink();
    const c = new Collector('kz-1', () => [s]);
    const target = { ...TcpTarget.parse({ id: 'kz-tcp', kind: 'tcp', host: '127.0.0.1', port: 1 }), country: 'KZ', category: 'news', file: 'kz.yaml', id: 'kz-tcp@isp-b', path: 'isp-b' };
    c.probe({ target: target.id, kind: 'tcp', ok: false, reason: 'tcp_timeout', phases: {}, ip: '127.0.0.1', at: 1000 }, target);
    const event = { kind: 'shutdown', country: 'KZ', asn: null, category: null, mechanism: 'blackhole', path: 'isp-b' } as never;
    c.evaluation(5000, {
      paths: [
        { path: 'isp-a', online: true, countries: [{ country: 'KZ', ratio: 1 }] },
        { path: 'isp-b', online: true, countries: [{ country: 'KZ', ratio: 0 }] },
      ],
      active: [event],
    });
    expect(s.got).toEqual([
      '__name__=lookout_probe_success,category=news,country=KZ,kind=tcp,path=isp-b,target=kz-tcp,vantage=kz-1@1000=0',
      '__name__=lookout_vantage_online,path=isp-a,vantage=kz-1@5000=1',
      '__name__=lookout_country_reachability_ratio,country=KZ,path=isp-a,vantage=kz-1@5000=1',
      '__name__=lookout_vantage_online,path=isp-b,vantage=kz-1@5000=1',
      '__name__=lookout_country_reachability_ratio,country=KZ,path=isp-b,vantage=kz-1@5000=0',
      '__name__=lookout_disruption_active,country=KZ,kind=shutdown,mechanism=blackhole,path=isp-b,vantage=kz-1@5000=1',
    ]);
  });
});
