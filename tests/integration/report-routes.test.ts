import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChartRenderer } from '../../src/chart/renderer.js';
import type { DisruptionEvent } from '../../src/detect/events.js';
import { silentLogger } from '../../src/log.js';
import { reportRoutes } from '../../src/report/routes.js';
import { createServer, type LookoutServer } from '../../src/server/server.js';
import { KZ_CUT, kzShutdown, KZ_TO, kzLines, MemorySeriesReader } from '../fixtures/series-reader.js';

// The chart and report endpoints on a real loopback listener, over the in-memory history.

const shutdown: DisruptionEvent = kzShutdown({ eligible: 10, down: 9, ratio: 0.9, reasons: { tcp_timeout: 9 } });

let server: LookoutServer;
let base: string;
const renderer = new ChartRenderer();

beforeAll(async () => {
  server = createServer({
    listen: '127.0.0.1:0',
    adminToken: null,
    registry: new Registry(),
    ready: () => true,
    reload: () => Promise.resolve({ ok: true, problems: [] }),
    log: silentLogger(),
    routes: { '/api/v1/events': () => ({ status: 200, body: { events: [shutdown] } }) },
    prefixRoutes: reportRoutes({
      events: () => [shutdown],
      series: new MemorySeriesReader(kzLines()),
      context: () => ({ vantage: { id: 'fra-1', country: 'DE' }, intervalMs: 60_000, downAfter: 2, openAfter: 2, closeAfter: 2, evaluateEveryMs: 5000 }),
      renderer,
      now: () => KZ_TO - 60_000,
    }),
  });
  const { port } = await server.listen();
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.close(0);
  await renderer.close();
});

const reportUrl = (ext: string, id = shutdown.id): string => `${base}/api/v1/events/${encodeURIComponent(id)}/report.${ext}`;

describe('GET /api/v1/events/{id}/report.{svg,png,csv,md}', () => {
  it('answers the chart as SVG with the lines, labels and the shaded event', async () => {
    const res = await fetch(reportUrl('svg'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
    const svg = await res.text();
    for (const text of ['Shutdown in Kazakhstan (KZ)', 'AS9198', 'AS21299', 'government', 'shutdown (blackhole)', 'Asia/Almaty', '11:00']) expect(svg).toContain(text);
  }, 30_000);

  it('answers a PNG that decodes to twice the SVG size', async () => {
    const svg = await (await fetch(reportUrl('svg'))).text();
    const res = await fetch(reportUrl('png'));
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([Number(w) * 2, Number(h) * 2]);
  }, 30_000);

  it('answers the CSV and the Markdown summary', async () => {
    const csv = await fetch(reportUrl('csv'));
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(`inline; filename="shutdown_KZ_-_${KZ_CUT.from}.csv"`);
    expect(await csv.text()).toContain('2019-06-09T05:00,2019-06-09T11:00,AS9198,KZ,9198,,,6,0,0,,1\r\n');
    const md = await (await fetch(reportUrl('md'))).text();
    expect(md).toContain('# Shutdown in Kazakhstan \\(KZ\\)');
    expect(md).toContain('](report.png)');
  });

  it('answers 404 with a JSON error for an unknown event or format, and 400 for a malformed id', async () => {
    const unknown = await fetch(reportUrl('svg', 'shutdown:XX:-:1'));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'event "shutdown:XX:-:1" not found' });
    expect((await fetch(reportUrl('gif'))).status).toBe(404);
    expect((await fetch(`${base}/api/v1/events/x/other`)).status).toBe(404);
    const bad = await fetch(`${base}/api/v1/events/%E0%A4%A/report.svg`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^id: /);
    // The exact route is unchanged beside the prefix.
    expect(((await (await fetch(`${base}/api/v1/events`)).json()) as { events: unknown[] }).events).toHaveLength(1);
  });
});

describe('GET /api/v1/charts/country/{CC}.svg', () => {
  it("draws the country's last hours with its events", async () => {
    const res = await fetch(`${base}/api/v1/charts/country/KZ.svg?hours=12`);
    expect(res.status).toBe(200);
    const svg = await res.text();
    for (const text of ['Kazakhstan (KZ), last 12 hours', 'AS9198', 'streaming', 'shutdown (blackhole)']) expect(svg).toContain(text);
  }, 30_000);

  it('answers 404 for a country without history and 400 naming a bad parameter', async () => {
    expect((await fetch(`${base}/api/v1/charts/country/BY.svg`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/charts/country/kz.svg`)).status).toBe(404);
    for (const [q, param] of [['hours=0', 'hours'], ['hours=169', 'hours'], ['hours=2h', 'hours'], ['path=%20x', 'path'], ['x=1', 'x'], ['hours=1&hours=2', 'hours']]) {
      const res = await fetch(`${base}/api/v1/charts/country/KZ.svg?${q}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error.startsWith(`${param}: `)).toBe(true);
    }
  });
});
