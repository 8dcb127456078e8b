import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASELINE_WINDOW_MS, BaselineHistory, countGroups, groupSignal } from '../../../src/blocks/signals.js';
import type { BlockVerdict } from '../../../src/blocks/belief.js';

describe('block signals per country and ASN', () => {
  it('counts monitored blocks by verdict; unmonitored ones are left out', () => {
    const v = (verdict: BlockVerdict | null, country: string | null, asn: number | null) => ({ verdict, country, asn });
    const { countries, asns } = countGroups([v('up', 'KZ', 9198), v('down', 'KZ', 9198), v('uncertain', 'KZ', 48503), v(null, 'KZ', 9198), v('up', 'CD', null)]);
    expect(countries.get('KZ')).toEqual({ monitored: 3, up: 1, down: 1, uncertain: 1 });
    expect(countries.get('CD')).toEqual({ monitored: 1, up: 1, down: 0, uncertain: 0 });
    expect(asns.get('9198')).toEqual({ monitored: 2, up: 1, down: 1, uncertain: 0 });
    expect(asns.has('null')).toBe(false);
  });

  it('monitored = up + down + uncertain for any mix', () => {
    const verdict = fc.constantFrom<BlockVerdict | null>('up', 'down', 'uncertain', null);
    fc.assert(
      fc.property(fc.array(fc.record({ verdict, country: fc.constantFrom('KZ', 'CD'), asn: fc.constantFrom(1, 2, null) })), (blocks) => {
        const { countries } = countGroups(blocks);
        for (const c of countries.values()) expect(c.monitored).toBe(c.up + c.down + c.uncertain);
        const total = [...countries.values()].reduce((n, c) => n + c.monitored, 0);
        expect(total).toBe(blocks.filter((b) => b.verdict !== null).length);
      }),
    );
  });

  it('% of ordinary: null before the minimum of rounds, then up now over the median of the window', () => {
    const h = new BaselineHistory();
    const t0 = Date.UTC(2019, 5, 9);
    h.record(t0, new Map([['country:KZ', 100]]));
    h.record(t0 + 600_000, new Map([['country:KZ', 80]]));
    expect(h.median('country:KZ', 3)).toBeNull();
    expect(groupSignal({ monitored: 100, up: 50, down: 50, uncertain: 0 }, h.median('country:KZ', 3)).ordinary_pct).toBeNull();
    h.record(t0 + 1_200_000, new Map([['country:KZ', 90]]));
    expect(h.median('country:KZ', 3)).toBe(90);
    expect(groupSignal({ monitored: 100, up: 45, down: 55, uncertain: 0 }, 90).ordinary_pct).toBe(50);
  });

  it('forgets samples older than 7 days and survives a JSON round trip', () => {
    const h = new BaselineHistory();
    const t0 = 1_000_000_000_000;
    h.record(t0, new Map([['asn:9198', 1000]]));
    for (let i = 1; i <= 3; i++) h.record(t0 + BASELINE_WINDOW_MS + i, new Map([['asn:9198', 10]]));
    expect(h.median('asn:9198', 3)).toBe(10);
    const again = new BaselineHistory(JSON.parse(JSON.stringify(h.toJSON())) as ReturnType<BaselineHistory['toJSON']>);
    expect(again.median('asn:9198', 3)).toBe(10);
    expect(again.median('asn:9198', 4)).toBeNull();
  });

  it('the median is the middle sample (or the mean of the two middle ones)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 50 }), (ups) => {
        const h = new BaselineHistory();
        ups.forEach((up, i) => h.record(1e12 + i * 600_000, new Map([['country:XA', up]])));
        const m = h.median('country:XA', 1) as number;
        expect(ups.filter((u) => u < m).length).toBeLessThanOrEqual(ups.length / 2);
        expect(ups.filter((u) => u > m).length).toBeLessThanOrEqual(ups.length / 2);
      }),
    );
  });
});
