import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWriteRequest, REMOTE_WRITE_HEADERS } from '../../src/remote/prompb.js';
import { CENTER_CONFIG, startCenter, type Center } from '../fixtures/center.js';
import { promtool } from '../fixtures/promtool.js';
import { freePort } from '../fixtures/stack.js';

// The shipped center config (config/prometheus/prometheus-center.yml) run by Debian's
// prometheus 2.42 as a remote-write receiver, fed with the daemon's own encoder: what the
// out-of-order window buys. Without it a sample more than about an hour behind the newest one
// is refused ("out of bounds"), which is what a vantage's backlog is after a long cut; with the
// shipped window it is taken, in order or not.

const HOUR = 3_600_000;
let withWindow: Center;
let withoutWindow: Center;

function body(vantage: string, samples: { value: number; timestamp: number }[]): Uint8Array {
  return encodeWriteRequest([
    {
      labels: [
        { name: '__name__', value: 'lookout_probe_success' },
        { name: 'target', value: 'kz-gov-1' },
        { name: 'vantage', value: vantage },
      ],
      samples,
    },
  ]);
}

beforeAll(async () => {
  [withWindow, withoutWindow] = await Promise.all([startCenter({ port: await freePort() }), startCenter({ port: await freePort(), outOfOrderWindow: null })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([withWindow?.close(), withoutWindow?.close()]);
});

describe('config/prometheus/prometheus-center.yml', () => {
  it('passes promtool check config, with the shared rules', async () => {
    const run = await promtool('check', 'config', CENTER_CONFIG);
    expect(run.output).toContain('SUCCESS');
    expect(run.output).toContain('lookout.rules.yml');
    expect(run.code).toBe(0);
  });

  it('ships an out-of-order window of days, not hours', () => {
    const window = withWindow.shipped.storage?.tsdb?.out_of_order_time_window ?? '';
    const m = /^(\d+)([dh])$/.exec(window);
    expect(m, window).not.toBeNull();
    const hours = Number(m?.[1]) * (m?.[2] === 'd' ? 24 : 1);
    expect(hours).toBeGreaterThanOrEqual(24);
  });

  it('takes a backlog hours old once the center holds newer samples, in order and out of order', async () => {
    const now = Date.now();
    expect(await withWindow.write(body('now', [{ value: 1, timestamp: now }]), REMOTE_WRITE_HEADERS)).toMatchObject({ status: 204 });
    // A vantage coming back from a five-hour cut: its backlog, oldest first.
    const backlog = [5, 4, 3].map((h) => ({ value: 0, timestamp: now - h * HOUR }));
    expect(await withWindow.write(body('kz-inside', backlog), REMOTE_WRITE_HEADERS)).toMatchObject({ status: 204 });
    // And a sample older still, after newer ones of the same series (out of order).
    expect(await withWindow.write(body('kz-inside', [{ value: 1, timestamp: now - 6 * HOUR }]), REMOTE_WRITE_HEADERS)).toMatchObject({ status: 204 });
    const got = await withWindow.query('lookout_probe_success{vantage="kz-inside"}[7h]', now / 1000);
    expect(got[0]?.values.map(([t]) => Math.round(t * 1000))).toEqual([6, 5, 4, 3].map((h) => now - h * HOUR));
  });

  // Prometheus 2.42 answers a sample older than the window with 500 "too old sample", not 400:
  // a sender that retries every 5xx is stuck on that batch (docs/remote-write.md says so).
  it('refuses what is older than the window, with a 500 "too old sample" (2.42)', async () => {
    const now = Date.now();
    expect(await withWindow.write(body('now', [{ value: 1, timestamp: now }]), REMOTE_WRITE_HEADERS)).toMatchObject({ status: 204 });
    const refused = await withWindow.write(body('kz-late', [{ value: 0, timestamp: now - 8 * 24 * HOUR }]), REMOTE_WRITE_HEADERS);
    expect(refused).toEqual({ status: 500, body: 'too old sample\n' });
  });

  it('without the window, refuses the same backlog as out of bounds (400), which a sender must not retry', async () => {
    const now = Date.now();
    expect(await withoutWindow.write(body('now', [{ value: 1, timestamp: now }]), REMOTE_WRITE_HEADERS)).toMatchObject({ status: 204 });
    const refused = await withoutWindow.write(body('kz-inside', [{ value: 0, timestamp: now - 3 * HOUR }]), REMOTE_WRITE_HEADERS);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatch(/out of bounds/);
    // One refused sample rolls back the whole request: the good series beside it is not kept.
    const mixed = encodeWriteRequest([
      { labels: [{ name: '__name__', value: 'lookout_vantage_online' }, { name: 'vantage', value: 'kz-mixed' }], samples: [{ value: 1, timestamp: now - 60_000 }] },
      { labels: [{ name: '__name__', value: 'lookout_probe_success' }, { name: 'vantage', value: 'kz-mixed' }], samples: [{ value: 1, timestamp: now - 3 * HOUR }] },
    ]);
    expect((await withoutWindow.write(mixed, REMOTE_WRITE_HEADERS)).status).toBe(400);
    expect(await withoutWindow.query('lookout_vantage_online{vantage="kz-mixed"}[10m]', now / 1000)).toEqual([]);
    // Half an hour behind is still inside the head: taken even without the window.
    expect(await withoutWindow.write(body('kz-inside', [{ value: 0, timestamp: now - HOUR / 2 }]), REMOTE_WRITE_HEADERS)).toMatchObject({ status: 204 });
  });
});
