import { describe, expect, it } from 'vitest';
import { buildChartSpec, formatOffset, lineLabel } from '../../../src/chart/spec.js';
import { KZ_CUT, KZ_FROM, KZ_TO, kzLines, makeLine } from '../../fixtures/series-reader.js';

interface Layer {
  data: { values: Record<string, unknown>[] };
  mark: { type: string; invalid?: string };
  encoding: { x: { axis?: { labelExpr: string }; title?: string; scale?: { type: string; domain: number[] } }; color?: { scale: { domain: string[]; range: string[] } } };
}
interface Panel {
  title: { text: string };
  layer: Layer[];
}

const kz = kzLines().filter((l) => l.key.country === 'KZ');
const build = (over: Partial<Parameters<typeof buildChartSpec>[0]> = {}): { vconcat: Panel[]; description: string } =>
  buildChartSpec({ title: 'Kazakhstan (KZ)', from: KZ_FROM, to: KZ_TO, lines: kz, bands: [{ ...KZ_CUT, label: 'shutdown (blackhole)' }], ...over }) as unknown as { vconcat: Panel[]; description: string };

describe('buildChartSpec', () => {
  it('puts the country and ASNs, the categories and the latency ratio in three panels', () => {
    const spec = build();
    expect(spec.vconcat.map((p) => p.title.text)).toEqual(['reachability (country and ASNs)', 'reachability by category', 'latency over baseline (x)']);
    const lines = (p: Panel): string[] => (p.layer[1] as Layer).encoding.color?.scale.domain ?? [];
    expect(lines(spec.vconcat[0] as Panel)).toEqual(['KZ', 'AS9198', 'AS21299']);
    expect(lines(spec.vconcat[1] as Panel)).toEqual(['KZ', 'government', 'streaming']);
    // The country's own line is drawn dark, the others in the palette's colours.
    expect((spec.vconcat[0] as Panel).layer[1]?.encoding.color?.scale.range[0]).toBe('#222222');
    expect(spec.description).toBe('Kazakhstan (KZ)');
  });

  it('leaves out the category panel when there is no category line', () => {
    const spec = build({ lines: kz.filter((l) => l.key.category === null) });
    expect(spec.vconcat.map((p) => p.title.text)).toEqual(['reachability (country and ASNs)', 'latency over baseline (x)']);
  });

  it('keeps 1-minute points with gaps as null, inside the window only, on a UTC scale', () => {
    const spec = build({ from: KZ_CUT.from, to: KZ_CUT.to + 10 * 60_000 });
    const layer = (spec.vconcat[0] as Panel).layer[1] as Layer;
    expect(layer.mark.invalid).toBe('break-paths-show-domains');
    expect(layer.encoding.x.scale).toEqual({ type: 'utc', domain: [KZ_CUT.from, KZ_CUT.to + 10 * 60_000] });
    const rows = layer.data.values as { t: number; line: string; v: number | null }[];
    expect(rows.filter((r) => r.line === 'KZ')).toHaveLength(70);
    expect(rows.every((r) => r.t >= KZ_CUT.from && r.t < KZ_CUT.to + 10 * 60_000)).toBe(true);
    expect(rows.find((r) => r.line === 'AS9198' && r.t === KZ_CUT.from)?.v).toBe(0);
    const gap = build().vconcat[0]?.layer[1]?.data.values.find((r) => r.line === 'AS21299' && r.t === Date.UTC(2019, 5, 9, 8, 2));
    expect(gap).toEqual({ t: Date.UTC(2019, 5, 9, 8, 2), line: 'AS21299', v: null });
  });

  it('shades the events clipped to the window, and labels them in the first panel only', () => {
    const spec = build({ bands: [{ from: KZ_FROM - 3600_000, to: KZ_FROM + 600_000, label: 'early' }, { ...KZ_CUT, label: 'shutdown (blackhole)' }, { from: KZ_TO + 1, to: KZ_TO + 2, label: 'after' }] });
    for (const p of spec.vconcat) expect(p.layer[0]?.data.values).toEqual([{ from: KZ_FROM, to: KZ_FROM + 600_000, label: 'early' }, { ...KZ_CUT, label: 'shutdown (blackhole)' }]);
    expect(spec.vconcat[0]?.layer.map((l) => l.mark.type)).toEqual(['rect', 'line', 'text']);
    expect(spec.vconcat[1]?.layer.map((l) => l.mark.type)).toEqual(['rect', 'line']);
  });

  it('labels ticks with UTC, and with a zone also with local time', () => {
    const axis = (s: { vconcat: Panel[] }): Layer['encoding']['x'] => (s.vconcat[0]?.layer[1] as Layer).encoding.x;
    expect(axis(build()).axis?.labelExpr).toBe("utcFormat(datum.value, '%H:%M')");
    const zoned = axis(build({ zone: { name: 'Asia/Almaty', offsetMs: 6 * 3600_000 } }));
    expect(zoned.axis?.labelExpr).toBe("[utcFormat(datum.value, '%H:%M'), utcFormat(time(datum.value) + 21600000, '%H:%M')]");
    expect(zoned.title).toContain('Asia/Almaty UTC+06:00');
    expect(axis(build({ from: KZ_FROM, to: KZ_FROM + 7 * 86_400_000 })).axis?.labelExpr).toContain('%d %b %H:%M');
  });

  it('names lines by ASN, category or country, with the path when bound', () => {
    expect(lineLabel({ country: 'KZ', asn: null, category: null, path: '' })).toBe('KZ');
    expect(lineLabel({ country: 'KZ', asn: 9198, category: null, path: 'isp-a' })).toBe('AS9198 @isp-a');
    expect(lineLabel({ country: 'KZ', asn: null, category: 'social', path: '' })).toBe('social');
    expect(lineLabel(makeLine({ country: null }, 0, 60_000, 1, () => 1).key)).toBe('all');
    expect([formatOffset(6 * 3600_000), formatOffset(-(3 * 60 + 30) * 60_000), formatOffset(0)]).toEqual(['UTC+06:00', 'UTC-03:30', 'UTC+00:00']);
  });
});
