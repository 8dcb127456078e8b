import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatFigures, measurePage } from '../../bench/page/run.js';

// The status page benchmark (bench/page) at a tiny size, so that its script never rots. It
// asserts only that the run measured what it prints, never anything about speed. Needs dist/
// (npm run build) and chromium.

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  if (!existsSync(resolve(import.meta.dirname, '../../dist/main.js'))) throw new Error('dist/main.js is missing: run npm run build first');
});

describe('bench:page at a tiny size', () => {
  it('measures the page weight and first paint of a daemon with 30 targets', async () => {
    const f = await measurePage(30, 1);
    expect(f.html).toBeGreaterThan(f.htmlGzip);
    expect(f.htmlGzip).toBeGreaterThan(0);
    expect(f.assets).toBeGreaterThan(0);
    expect(f.firstPaintMs).toHaveLength(1);
    expect(Number.isFinite(f.firstPaintMs[0])).toBe(true);
    expect(Number.isFinite(f.serverMedianMs)).toBe(true);
    expect(formatFigures(f)).toMatch(/^status page, 30 targets on loopback[\s\S]*first paint: median \d+ ms/);
  }, 60_000);
});
