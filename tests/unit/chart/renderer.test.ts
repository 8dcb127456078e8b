import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { buildChartSpec } from '../../../src/chart/spec.js';
import { ChartRenderer, RenderBusyError, RenderError } from '../../../src/chart/renderer.js';
import { KZ_CUT, KZ_FROM, KZ_TO, kzLines } from '../../fixtures/series-reader.js';

const spec = () =>
  buildChartSpec({
    title: 'Kazakhstan (KZ)',
    subtitle: 'shutdown 05:00-06:00 UTC',
    from: KZ_FROM,
    to: KZ_TO,
    lines: kzLines().filter((l) => l.key.country === 'KZ'),
    bands: [{ ...KZ_CUT, label: 'shutdown (blackhole)' }],
    zone: { name: 'Asia/Almaty', offsetMs: 6 * 3600_000 },
  });

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('ChartRenderer', () => {
  const renderer = new ChartRenderer();
  afterAll(() => renderer.close());

  it('draws the spec to SVG in a worker: lines, labels, local time and the shaded event', async () => {
    const svg = (await renderer.render({ key: 'kz', format: 'svg', spec })).toString('utf8');
    await mkdir('test-artifacts', { recursive: true });
    await writeFile('test-artifacts/chart-kz.svg', svg);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['Kazakhstan (KZ)', 'AS9198', 'AS21299', 'streaming', 'government', 'shutdown (blackhole)', 'Asia/Almaty', '05:00', '11:00']) expect(svg).toContain(text);
  }, 60_000);

  it('rasterises to a PNG of twice the SVG size', async () => {
    const svg = (await renderer.render({ key: 'kz', format: 'svg', spec })).toString('utf8');
    const png = await renderer.render({ key: 'kz', format: 'png', spec });
    await writeFile('test-artifacts/chart-kz.png', png);
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
    expect(pngSize(png)).toEqual({ width: Number(w) * 2, height: Number(h) * 2 });
  }, 60_000);

  it('draws a key once: the cache and a shared render answer the same key without building the spec again', async () => {
    let built = 0;
    const counted = (): ReturnType<typeof spec> => (built++, spec());
    const [a, b] = await Promise.all([renderer.render({ key: 'once', format: 'svg', spec: counted }), renderer.render({ key: 'once', format: 'svg', spec: counted })]);
    const c = await renderer.render({ key: 'once', format: 'svg', spec: counted });
    expect(built).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
  }, 60_000);
});

describe('ChartRenderer bounds', () => {
  it('refuses renders beyond its queue at once', async () => {
    const r = new ChartRenderer({ maxQueue: 1 });
    try {
      const first = r.render({ key: 'a', format: 'svg', spec });
      const second = r.render({ key: 'b', format: 'svg', spec });
      await expect(r.render({ key: 'c', format: 'svg', spec })).rejects.toBeInstanceOf(RenderBusyError);
      expect((await first).length).toBeGreaterThan(1000);
      expect((await second).length).toBeGreaterThan(1000);
    } finally {
      await r.close();
    }
  }, 60_000);

  it('ends a render past its timeout with a RenderError, and terminates its worker', async () => {
    const r = new ChartRenderer({ timeoutMs: 5 });
    try {
      await expect(r.render({ key: 'slow', format: 'png', spec })).rejects.toThrow(/timed out after 5 ms/);
      expect((r as unknown as { worker: unknown }).worker).toBeNull();
    } finally {
      await r.close();
    }
  }, 60_000);

  it('reports a spec the libraries reject as a RenderError, and keeps working', async () => {
    const r = new ChartRenderer();
    try {
      await expect(r.render({ key: 'bad', format: 'svg', spec: () => ({ mark: 'nonsense' }) as unknown as ReturnType<typeof spec> })).rejects.toBeInstanceOf(RenderError);
      expect((await r.render({ key: 'good', format: 'svg', spec })).toString('utf8')).toContain('AS9198');
    } finally {
      await r.close();
    }
  }, 60_000);
});
