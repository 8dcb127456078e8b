import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LookoutRegistry } from '../../../src/metrics/lookout-registry.js';
import { SeriesGauge } from '../../../src/metrics/series-gauge.js';

const HELP = 'A help text with a back\\slash and a\nnewline.';
const LABELS = ['target', 'kind'] as const;
const rows: { target: string; kind: string; value: number }[] = [
  { target: 'plain', kind: 'tcp', value: 1 },
  { target: 'quote"d', kind: 'http', value: 0.000123 },
  { target: 'back\\slash', kind: 'dns', value: Number.POSITIVE_INFINITY },
  { target: 'new\nline', kind: 'tls', value: -2.5e-7 },
  { target: 'nan', kind: 'tcp', value: Number.NaN },
  { target: 'neg-inf', kind: 'tcp', value: Number.NEGATIVE_INFINITY },
];

/** The same metrics on a plain prom-client registry and on ours, with prom-client's Gauge and with SeriesGauge. */
function pair(): { reference: Registry; ours: LookoutRegistry; series: SeriesGauge<(typeof LABELS)[number]> } {
  const reference = new Registry();
  const ours = new LookoutRegistry();
  for (const r of [reference, ours]) r.setDefaultLabels({ vantage: 'fra-"1"' });
  const gauge = new Gauge({ name: 'test_gauge', help: HELP, labelNames: LABELS, registers: [reference] });
  const series = new SeriesGauge({ name: 'test_gauge', help: HELP, labelNames: LABELS, registers: [ours] });
  for (const row of rows) {
    gauge.set({ target: row.target, kind: row.kind }, row.value);
    series.series({ target: row.target, kind: row.kind }).set(row.value);
  }
  // Ordinary metrics around it go through prom-client's own rendering on both.
  for (const registers of [[reference], [ours]]) {
    new Counter({ name: 'test_total', help: 'A counter.', labelNames: ['kind'], registers }).inc({ kind: 'tcp' }, 3);
    new Histogram({ name: 'test_seconds', help: 'A histogram.', buckets: [0.1, 1], registers }).observe(0.5);
    new Gauge({ name: 'test_unlabelled', help: 'A gauge without labels.', registers }).set(7);
  }
  return { reference, ours, series };
}

describe('SeriesGauge on LookoutRegistry', () => {
  it('renders exactly what prom-client renders for the same series, escaping included', async () => {
    const { reference, ours } = pair();
    expect(await ours.metrics()).toBe(await reference.metrics());
  });

  it('get() answers with the present series, as prom-client does', async () => {
    const { reference, ours } = pair();
    const theirs = (await reference.getMetricsAsJSON()).find((m) => m.name === 'test_gauge');
    const mine = (await ours.getMetricsAsJSON()).find((m) => m.name === 'test_gauge');
    expect(mine?.values).toEqual(theirs?.values);
    expect(mine?.help).toBe(HELP);
    expect(String(mine?.type)).toBe('gauge');
  });

  it('leaves out a cleared or deleted series and brings a cleared one back on set', async () => {
    const { ours, series } = pair();
    const a = series.series({ target: 'a', kind: 'tcp' });
    const b = series.series({ target: 'b', kind: 'tcp' });
    expect(await ours.metrics()).not.toContain('target="a"');
    a.set(1);
    b.set(2);
    a.clear();
    series.delete(b);
    let text = await ours.metrics();
    expect(text).not.toContain('target="a"');
    expect(text).not.toContain('target="b"');
    a.set(3);
    text = await ours.metrics();
    expect(text).toContain('test_gauge{target="a",kind="tcp",vantage="fra-\\"1\\""} 3');
    expect(series.size).toBe(rows.length + 1);
  });

  it('renders a series again once its value changed, and only the current value', async () => {
    const ours = new LookoutRegistry();
    const g = new SeriesGauge({ name: 'test_changing', help: 'Changing.', labelNames: ['k'], registers: [ours] });
    const one = g.series({ k: 'v' });
    const lines = async (): Promise<string[]> => (await ours.metrics()).split('\n').filter((l) => l.startsWith('test_changing{'));
    one.set(0.25);
    expect(await lines()).toEqual(['test_changing{k="v"} 0.25']);
    expect(await lines()).toEqual(['test_changing{k="v"} 0.25']);
    one.set(Number.NaN);
    expect(await lines()).toEqual(['test_changing{k="v"} Nan']);
    one.set(0.5);
    expect(await lines()).toEqual(['test_changing{k="v"} 0.5']);
    ours.setDefaultLabels({ vantage: 'ams-1' });
    expect(await lines()).toEqual(['test_changing{k="v",vantage="ams-1"} 0.5']);
  });

  it('pauses every pauseEvery series when asked to, and renders the same text', async () => {
    const { series } = pair();
    let pauses = 0;
    const paused = await series.exposition('v="1"', () => {
      pauses++;
      return Promise.resolve();
    }, 2);
    expect(pauses).toBe(Math.floor(rows.length / 2));
    expect(paused).toBe(await series.exposition('v="1"'));
  });

  it('cuts the exposition into pieces of at most linesPerPiece lines that add up to the same text', async () => {
    const ours = new LookoutRegistry();
    const g = new SeriesGauge({ name: 'test_many', help: 'Many.', labelNames: ['k'], registers: [ours] });
    for (let i = 0; i < 2500; i++) g.series({ k: `s${i}` }).set(i);
    const pieces: string[] = [];
    for await (const piece of g.pieces('v="1"', { linesPerPiece: 1000 })) pieces.push(piece);
    // 2 HELP/TYPE lines + 2500 series = 2502 lines: 1000, 1000, 502.
    expect(pieces.map((p) => p.split('\n').length - 1)).toEqual([1000, 1000, 502]);
    for (const p of pieces) expect(p.endsWith('\n')).toBe(true);
    expect(pieces.join('')).toBe(`${await g.exposition('v="1"')}\n`);
  });

  it("registry exposition(): its pieces add up to metrics(), prom-client's rendering included", async () => {
    const { reference, ours, series } = pair();
    for (let i = 0; i < 2500; i++) series.series({ target: `t${i}`, kind: 'tcp' }).set(i);
    let text = '';
    let count = 0;
    for await (const piece of await ours.exposition()) {
      text += piece;
      count++;
    }
    expect(count).toBeGreaterThan(3);
    expect(text).toBe(await ours.metrics());
    // The 2,500 extra series are ours only; everything else matches prom-client line for line.
    const extra = (l: string): boolean => /^test_gauge\{target="t\d+"/.test(l);
    expect(text.split('\n').filter((l) => !extra(l))).toEqual((await reference.metrics()).split('\n'));
  });

  it('registry exposition() rejects before yielding anything when a collect callback throws, wherever the metric is', async () => {
    const { ours } = pair();
    new Gauge({
      name: 'test_broken',
      help: 'Broken.',
      registers: [ours],
      collect() {
        throw new Error('collector exploded');
      },
    });
    await expect(ours.exposition()).rejects.toThrow('collector exploded');
  });

  it('asks refresh() for up-to-date values before every read', async () => {
    const ours = new LookoutRegistry();
    let reads = 0;
    const g: SeriesGauge<'k'> = new SeriesGauge({
      name: 'test_refreshed',
      help: 'Refreshed.',
      labelNames: ['k'],
      registers: [ours],
      refresh: () => {
        reads++;
        one.set(reads);
      },
    });
    const one = g.series({ k: 'v' });
    expect(await ours.metrics()).toContain('test_refreshed{k="v"} 1');
    expect(await ours.metrics()).toContain('test_refreshed{k="v"} 2');
    expect((await g.get()).values).toEqual([{ value: 3, labels: { k: 'v' } }]);
  });

  it('reset() clears every series', async () => {
    const { ours, series } = pair();
    series.reset();
    expect(await ours.metrics()).toContain('# TYPE test_gauge gauge\n\n');
    expect(series.size).toBe(0);
  });
});
