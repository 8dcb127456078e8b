import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, sample, startDaemon, tempDir, type Daemon } from './harness.js';

// A watch window (issue 25) under way when the daemon starts: the KZ targets it covers must be
// probed at its 2 s interval instead of the schedule's 60 s, measured from the connections each
// target's listener really received; a DE target outside it keeps the schedule.

/** Accept times (ms) per listener. */
interface Listener {
  server: Server;
  port: number;
  accepts: number[];
}

async function listener(): Promise<Listener> {
  const accepts: number[] = [];
  const server = createServer((s) => {
    accepts.push(Date.now());
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, accepts };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

let daemon: Daemon;
let kz: Listener;
let de: Listener;
let config: string;

beforeAll(async () => {
  kz = await listener();
  de = await listener();
  const apiPort = await freePort();
  const dir = tempDir();
  // Started at the top of the current UTC minute, an hour long: under way at start.
  const now = new Date();
  const cron = `${now.getUTCMinutes()} ${now.getUTCHours()} * * *`;
  config = join(dir, 'lookout.yaml');
  writeFileSync(
    config,
    `
vantage: { id: e2e-windows }
server: { listen: "127.0.0.1:${apiPort}" }
storage: { dir: ./data }
schedule: { interval: 60s, timeout: 500ms, confirm_delay: 5s }
targets:
  - { id: kz-watched, kind: tcp, country: KZ, host: 127.0.0.1, port: ${kz.port} }
  - { id: de-plain, kind: tcp, country: DE, host: 127.0.0.1, port: ${de.port} }
windows:
  - { name: kz-watch, kind: watch, cron: "${cron}", duration: 1h, timezone: UTC, countries: [KZ], interval: 2s }
  - { name: later, kind: maintenance, cron: "0 3 * * 0", duration: 30m, timezone: Europe/Berlin }
`,
  );
  daemon = await startDaemon(config, apiPort, { LOG_LEVEL: 'info' });
});

afterAll(async () => {
  daemon?.proc.kill('SIGKILL');
  await Promise.all([kz, de].map((l) => new Promise<void>((r) => l?.server.close(() => r()))));
});

describe('watch windows', () => {
  it('probes the watched country at the window interval, measured from the probes received', { timeout: 40_000 }, async () => {
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 12_000));
    const seen = kz.accepts.filter((t) => t >= from);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    const gaps = seen.slice(1).map((t, i) => t - (seen[i] as number));
    expect(median(gaps)).toBeGreaterThan(1_700);
    expect(median(gaps)).toBeLessThan(2_300);
    // The DE target keeps its 60 s slot: at most one probe in the 12 s (plus the start).
    expect(de.accepts.length).toBeLessThanOrEqual(2);
  });

  it('shows the window open in the gauge, the status and the log', async () => {
    const text = await daemon.metrics();
    expect(sample(text, 'lookout_window_active', { window: 'kz-watch', kind: 'watch' })).toBe(1);
    expect(sample(text, 'lookout_window_active', { window: 'later', kind: 'maintenance' })).toBe(0);
    const res = await fetch(`http://127.0.0.1:${daemon.port}/api/v1/status`);
    const status = (await res.json()) as { windows: { name: string; active: boolean; next_start: string | null }[] };
    expect(status.windows.map((w) => [w.name, w.active])).toEqual([
      ['kz-watch', true],
      ['later', false],
    ]);
    expect(Date.parse(status.windows[1]?.next_start ?? '')).toBeGreaterThan(Date.now());
    expect(daemon.logs.filter((l) => l.msg === 'window opened').map((l) => l.window)).toEqual(['kz-watch']);
  });

  it('check-config prints the next three starts of each window in UTC and in its zone', async () => {
    const { code, stdout } = await runCli(['check-config', '--config', config]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    const at = lines.findIndex((l) => l.startsWith('window later: maintenance (all countries), "0 3 * * 0" for 30m in Europe/Berlin'));
    expect(at).toBeGreaterThan(0);
    const starts = lines.slice(at + 1, at + 4);
    expect(starts).toHaveLength(3);
    for (const line of starts) {
      const m = /^ {2}(\S+Z) {2}(\d{4}-\d\d-\d\d) 03:00:00 Europe\/Berlin$/.exec(line);
      expect(m, line).not.toBeNull();
      // Sunday 03:00 in Berlin is 01:00Z or 02:00Z depending on daylight saving.
      expect(new Date(m?.[1] ?? '').getUTCDay()).toBe(0);
      expect(['01', '02']).toContain(m?.[1]?.slice(11, 13));
    }
  });
});
