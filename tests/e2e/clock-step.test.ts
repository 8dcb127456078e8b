import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sample, startDaemon, tempDir, type Daemon } from './harness.js';

// The wall clock stepped an hour forward, back, and an hour behind, under the running daemon,
// with Debian's libfaketime (the offset is read from a file at every clock call; the monotonic
// clock is left alone, as a real step leaves it). Nothing may open, the scheduler must keep
// probing, and no duration or lag may come out negative. A window starting 25 s after the
// config is written (2 h long) is stepped over by the first step (it opens then), comes round
// again on the true time after the second (it must not open again), is stepped back before by
// the third, and must have opened exactly once and stayed open (issue 25).

/** Debian's libfaketime, under the machine's multiarch directory. */
const LIBFAKETIME =
  readdirSync('/usr/lib', { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join('/usr/lib', d.name, 'faketime/libfaketime.so.1'))
    .find((p) => existsSync(p)) ?? '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

let daemon: Daemon;
let targets: Server;
let offsetFile: string;
let windowStart: Date;

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${daemon.port}${path}`);
  return (await res.json()) as T;
}

async function probes(): Promise<number> {
  return sample(await daemon.metrics(), 'lookout_probes_total', { kind: 'tcp' }) ?? 0;
}

/** Every lookout_* sample value that is negative (there must be none). */
function negatives(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('lookout_') && Number(l.slice(l.lastIndexOf(' ') + 1)) < 0);
}

async function waitUntil(cond: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const kzUp = async (): Promise<boolean> => {
  const s = await get<{ vantage: { online: boolean | null }; countries: { country: string; state: string; up: number }[] }>('/api/v1/status');
  const kz = s.countries.find((c) => c.country === 'KZ');
  return s.vantage.online === true && kz?.state === 'ok' && kz.up === 3;
};

beforeAll(async () => {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime (scripts/ensure-test-deps.sh does)`);
  targets = createServer((s) => s.destroy());
  await new Promise<void>((r) => targets.listen(0, '127.0.0.1', r));
  const port = (targets.address() as { port: number }).port;
  const apiPort = await freePort();
  const dir = tempDir();
  offsetFile = join(dir, 'clock-offset');
  writeFileSync(offsetFile, '+0\n');
  windowStart = new Date(Math.ceil((Date.now() + 25_000) / 1000) * 1000);
  const w = windowStart;
  const windowCron = `${w.getUTCSeconds()} ${w.getUTCMinutes()} ${w.getUTCHours()} ${w.getUTCDate()} ${w.getUTCMonth() + 1} *`;
  writeFileSync(
    join(dir, 'lookout.yaml'),
    `
vantage: { id: e2e-clock }
server: { listen: "127.0.0.1:${apiPort}" }
storage: { dir: ./data }
schedule: { interval: 1s, timeout: 400ms, confirm_delay: 200ms }
detection: { evaluate_every: 500ms }
targets:
  - { id: kz-1, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${port} }
  - { id: kz-2, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${port} }
  - { id: kz-3, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: ${port} }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${port} }
  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${port} }
windows:
  - { name: stepped, kind: watch, cron: "${windowCron}", duration: 2h, timezone: UTC, countries: [KZ], interval: 1s }
`,
  );
  daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, {
    LOG_LEVEL: 'info',
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  await waitUntil(kzUp, 'KZ up and the vantage online');
});

afterAll(async () => {
  daemon?.proc.kill('SIGKILL');
  await new Promise<void>((r) => targets.close(() => r()));
});

describe('wall clock steps under a running daemon', () => {
  for (const [offset, label] of [
    ['+1h', 'an hour forward'],
    ['+0', 'back an hour (to the true time)'],
    ['-1h', 'an hour behind the true time'],
  ] as const) {
    it(`keeps probing with no event and no negative figure after a step ${label}`, async () => {
      const jumpsBefore = daemon.logs.filter((l) => l.msg === 'clock jump: probe schedule rebuilt').length;
      const before = await probes();
      writeFileSync(offsetFile, `${offset}\n`);
      // The scheduler notices the step within its one-second tick.
      await waitUntil(() => Promise.resolve(daemon.logs.filter((l) => l.msg === 'clock jump: probe schedule rebuilt').length > jumpsBefore), 'the scheduler to see the step');
      await new Promise((r) => setTimeout(r, 6000));
      // On the true time, let the window's start second come round again (it was stepped over).
      if (offset === '+0') await new Promise((r) => setTimeout(r, Math.max(0, windowStart.getTime() + 1500 - Date.now())));
      // 5 targets at 1 s for 6 s: at least half of the planned probes ran.
      expect((await probes()) - before).toBeGreaterThanOrEqual(15);
      expect(await kzUp()).toBe(true);
      expect((await get<{ events: unknown[] }>('/api/v1/events')).events).toEqual([]);
      const text = await daemon.metrics();
      expect(negatives(text)).toEqual([]);
      expect(text.split('\n').filter((l) => l.startsWith('lookout_disruptions_total') && !l.endsWith(' 0'))).toEqual([]);
      expect(daemon.logs.filter((l) => l.msg === 'disruption opened')).toEqual([]);
    }, 60_000);
  }

  it('opened the window once across the steps, at its own start, and keeps it open', async () => {
    const opened = daemon.logs.filter((l) => l.msg === 'window opened');
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ window: 'stepped', kind: 'watch', start: windowStart.toISOString() });
    expect(daemon.logs.filter((l) => l.msg === 'window closed')).toEqual([]);
    expect(daemon.logs.filter((l) => l.msg === 'clock jump: windows looked at afresh').length).toBeGreaterThanOrEqual(3);
    expect(sample(await daemon.metrics(), 'lookout_window_active', { window: 'stepped', kind: 'watch' })).toBe(1);
    const status = await get<{ windows: { name: string; active: boolean; started_at: string | null }[] }>('/api/v1/status');
    expect(status.windows).toMatchObject([{ name: 'stepped', active: true, started_at: windowStart.toISOString() }]);
  }, 60_000);
});
