import { describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import type { PathsStatus, PathVantageState } from '../../../src/detect/paths.js';
import type { ProbeResult } from '../../../src/probers/types.js';
import { buildModel, type PageInputs } from '../../../src/page/model.js';
import { RecentResults } from '../../../src/page/recent-results.js';
import { renderPage } from '../../../src/page/render.js';

const NOW = Date.UTC(2019, 5, 9, 5, 30);
const EVIL = '<script>alert("x")</script>&\'';

function shutdown(over: Partial<DisruptionEvent> = {}): DisruptionEvent {
  return {
    id: 'shutdown:KZ:1',
    kind: 'shutdown',
    country: 'KZ',
    asn: null,
    category: null,
    mechanism: 'blackhole',
    severity: 'critical',
    started_at: new Date(Date.UTC(2019, 5, 9, 5, 0)).toISOString(),
    ended_at: null,
    summary: `KZ dark ${EVIL}`,
    evidence: { eligible: 4, down: 4, ratio: 1, reasons: { tcp_timeout: 4 }, targets: [EVIL] },
    ...over,
  };
}

function sources(over: Partial<PageInputs> = {}, status?: Partial<PathsStatus>): PageInputs {
  const recent = new RecentResults(3);
  const result = (ok: boolean, at: number): ProbeResult => ({
    target: EVIL,
    kind: 'http',
    ok,
    reason: ok ? null : 'tcp_timeout',
    phases: ok ? { dns: 0.003, connect: 0.01, total: 0.05 } : { dns: 0.002, total: 0.4 },
    ip: '127.0.0.1',
    at,
    detail: ok ? undefined : `connect timed out <b>${EVIL}</b>`,
  });
  for (let i = 0; i < 5; i++) recent.observe(result(i < 3, NOW - (5 - i) * 1000));
  const vantage: PathVantageState = { path: '', online: true, controls: 2, failing: 0, reasons: {} };
  return {
    vantageId: 'fra<1>',
    status: () => ({
      vantage: { id: 'fra<1>', country: null, online: true },
      countries: [{ country: 'KZ', state: 'shutdown', eligible: 4, up: 0, down: 4, dead: 1, ratio: 0, latency_ratio: null }],
      targets: [
        { id: EVIL, country: 'KZ', asn: 9198, category: 'news', control: false, state: 'down', latency_ratio: null },
        { id: 'ctl-1', country: 'ZZ', asn: null, category: 'control', control: true, state: 'up', latency_ratio: 1 },
      ],
      ...status,
    }),
    vantageStates: () => [vantage],
    events: () => [shutdown({ id: 'old', ended_at: new Date(Date.UTC(2019, 5, 9, 5, 10)).toISOString(), started_at: new Date(Date.UTC(2019, 5, 8)).toISOString() }), shutdown()],
    target: (id) => (id === 'ctl-1' ? { kind: 'tcp' } : { kind: 'http' }),
    recent,
    refreshSeconds: 5,
    now: () => NOW,
    ...over,
  };
}

/** The document's text with tags dropped and entities decoded, as a reader sees it. */
function text(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/\s+/g, ' ');
}

describe('the status page renderer', () => {
  it('escapes every text that comes from config or the network', () => {
    const html = renderPage(buildModel(sources(), new URLSearchParams()));
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('fra<1>');
    // The only script element is the page's own, from the same origin.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain('<script src="assets/page.js" defer></script>');
    expect(text(html)).toContain(`KZ dark ${EVIL}`);
    expect(text(html)).toContain(`connect timed out <b>${EVIL}</b>`);
  });

  it('reads as tables without JavaScript: verdict, countries, events open first, targets with their last results', () => {
    const html = renderPage(buildModel(sources(), new URLSearchParams()));
    const t = text(html);
    expect(t).toContain('Vantage online : 2 of 2 controls answer');
    expect(t).toMatch(/KZ shutdown 0% - - 0 \/ 4 \(1\)/);
    // Open event before the closed one, with duration and evidence.
    expect(t.indexOf('30 min, open')).toBeGreaterThan(0);
    expect(t.indexOf('30 min, open')).toBeLessThan(t.indexOf('29 h 10 min'));
    expect(t).toContain('eligible 4, down 4 (100%); tcp_timeout 4');
    // Target: state, last result (the newest of the ring of 3), phases in ms, recent newest first.
    expect(t).toContain('KZ http down tcp_timeout, 1 s ago');
    expect(t).toContain('2/-/-/-/400 ✗✗✓');
    expect(t).toContain('ctl-1 control ZZ tcp up - - -');
    expect(html).toContain('<img src="api/v1/charts/country/KZ.svg?hours=24"');
    // Every URL is relative: the page works under a proxy's sub-path.
    for (const m of html.matchAll(/(?:src|href|action)="([^"]*)"/g)) expect(m[1]).not.toMatch(/^\/|^[a-z]+:/);
  });

  it('filters the events by country and kind from the query, and says when a filter is not understood', () => {
    const only = buildModel(sources(), new URLSearchParams('kind=degradation'));
    expect(only.events).toEqual([]);
    const kz = buildModel(sources(), new URLSearchParams('country=KZ&kind=shutdown'));
    expect(kz.events.map((e) => e.id)).toEqual(['shutdown:KZ:1', 'old']);
    const html = renderPage(kz);
    expect(html).toContain('<option selected>KZ</option>');
    expect(html).toContain('<option selected>shutdown</option>');
    const bad = buildModel(sources(), new URLSearchParams('country=kz<&kind=x'));
    expect(bad.events).toHaveLength(2);
    expect(text(renderPage(bad))).toContain('Filter ignored: country: not an ISO 3166-1 alpha-2 code; kind: not one of');
  });

  it('says why the vantage is offline, and that it is starting before the controls answered', () => {
    const offline = sources({ vantageStates: () => [{ path: '', online: false, controls: 2, failing: 2, reasons: { tcp_timeout: 2 } }] });
    expect(text(renderPage(buildModel(offline, new URLSearchParams())))).toContain('Vantage offline : 2 of 2 controls fail (tcp_timeout 2)');
    const starting = sources({ vantageStates: () => [{ path: '', online: null, controls: 2, failing: 0, reasons: {} }] });
    expect(text(renderPage(buildModel(starting, new URLSearchParams())))).toContain('Vantage starting : waiting for the controls to answer');
  });

  it('shows each path where sources are bound', () => {
    const src = sources(
      {
        vantageStates: () => [
          { path: '', online: true, controls: 1, failing: 0, reasons: {} },
          { path: 'isp-a', online: false, controls: 1, failing: 1, reasons: { source_unavailable: 1 } },
        ],
        target: () => ({ kind: 'tcp', path: 'isp-a' }),
      },
      {
        targets: [{ id: 'kz-1@isp-a', path: 'isp-a', country: 'KZ', asn: null, category: 'news', control: false, state: 'up', latency_ratio: null }],
        paths: [
          { path: '', vantage: { online: true }, countries: [] },
          { path: 'isp-a', vantage: { online: false }, countries: [{ country: 'KZ', state: 'ok', eligible: 1, up: 1, down: 0, dead: 0, ratio: 1, latency_ratio: 1.5 }] },
        ],
      },
    );
    const t = text(renderPage(buildModel(src, new URLSearchParams())));
    expect(t).toContain('Vantage offline (path isp-a): 1 of 1 controls fail (source_unavailable 1)');
    expect(t).toContain('isp-a KZ ok 100% ×1.50');
    expect(t).toContain('kz-1 isp-a KZ tcp up');
  });
});

describe('RecentResults', () => {
  it('keeps the newest result and the last few outcomes per target, newest first, and forgets removed targets', () => {
    const r = new RecentResults(2);
    const at = (target: string, n: number, ok = true): ProbeResult => ({ target, kind: 'tcp', ok, reason: ok ? null : 'tcp_timeout', phases: { total: 0 }, ip: null, at: n });
    r.observe(at('a', 1));
    r.observe(at('a', 2, false));
    r.observe(at('a', 3));
    r.observe(at('b', 9, false));
    expect(r.of('a').last?.at).toBe(3);
    expect(r.of('a').outcomes).toEqual([true, false]);
    r.retain(new Set(['b']));
    expect(r.of('a')).toEqual({ last: null, outcomes: [] });
    expect(r.of('b').last?.at).toBe(9);
    expect(r.of('b').outcomes).toEqual([false]);
  });

  it('keeps up to 30 outcomes in order', () => {
    const r = new RecentResults(30);
    const oks = Array.from({ length: 40 }, (_, i) => i % 3 !== 0);
    oks.forEach((ok, i) => r.observe({ target: 'a', kind: 'tcp', ok, reason: ok ? null : 'tcp_timeout', phases: { total: 0 }, ip: null, at: i }));
    expect(r.of('a').outcomes).toEqual(oks.slice(-30).reverse());
    expect(() => new RecentResults(31)).toThrow(/1\.\.30/);
  });
});
