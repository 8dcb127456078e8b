import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { buildChartSpec } from '../../../src/chart/spec.js';
import { ChartRenderer } from '../../../src/chart/renderer.js';
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
});
