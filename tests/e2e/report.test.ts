import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../src/detect/events.js';
import { startPageWorld, type PageWorld } from '../fixtures/page-world.js';
import { freePort, runCli, startDaemon, tempDir, type Daemon } from './harness.js';

// A real shutdown of KZ on loopback seen by the built daemon; its report from the daemon's
// endpoints, then offline with `lookout report` from the storage dir it left.

let world: PageWorld;
let daemon: Daemon;
let base: string;
let event: DisruptionEvent;

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const shutdowns = async (): Promise<DisruptionEvent[]> =>
  ((await (await fetch(`${base}/api/v1/events?kind=shutdown&country=KZ`)).json()) as { events: DisruptionEvent[] }).events;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  world = await startPageWorld(tempDir(), port);
  daemon = await startDaemon(world.configPath, port, { LOG_LEVEL: 'info' });
  await daemon.waitForLog((l) => l.msg === 'controls reachable', 15_000);
  // Some ordinary minutes' worth of results first, then the cut, then KZ back.
  await new Promise((r) => setTimeout(r, 3000));
  await world.cut();
  await waitFor(async () => (await shutdowns())[0], 'the shutdown to open');
  await world.restore();
  event = await waitFor(async () => (await shutdowns()).find((e) => e.ended_at !== null), 'the shutdown to close');
}, 60_000);

afterAll(async () => {
  daemon?.proc.kill('SIGKILL');
  await world?.close();
});

describe('event reports of the running daemon', () => {
  const url = (ext: string): string => `${base}/api/v1/events/${encodeURIComponent(event.id)}/report.${ext}`;

  it('draws the chart with the event shaded and the country local time', async () => {
    const res = await fetch(url('svg'));
    expect(res.status).toBe(200);
    const svg = await res.text();
    for (const text of ['Shutdown in Kazakhstan (KZ)', 'AS9198', 'AS21299', 'news', 'government', 'shutdown (', 'Asia/Almaty']) expect(svg).toContain(text);
    const png = Buffer.from(await (await fetch(url('png'))).arrayBuffer());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  }, 30_000);

  it('exports the 1-minute points and the summary', async () => {
    const csv = await (await fetch(url('csv'))).text();
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('time_utc,time_local,line,country,asn,category,path,targets,up,reachability,latency_ratio,in_event');
    expect(rows.some((r) => r.includes(',KZ,KZ,,,,4,') && r.endsWith(',1'))).toBe(true);
    const md = await (await fetch(url('md'))).text();
    expect(md).toContain('| Seen from | vantage page-e2e, through the default route |');
    expect(md).toContain(`\`${event.id}\``);
  });

  it('answers 404 with a JSON error for an unknown event', async () => {
    const res = await fetch(`${base}/api/v1/events/shutdown%3AKZ%3A-%3A1/report.md`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'event "shutdown:KZ:-:1" not found' });
  });

  it('serves the country chart the status page embeds', async () => {
    const res = await fetch(`${base}/api/v1/charts/country/KZ.svg?hours=1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Kazakhstan (KZ), last 1 hours');
  }, 30_000);
});

describe('lookout report (offline)', () => {
  it('writes the four files from the stored events and history once the daemon stopped', async () => {
    daemon.proc.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    const out = tempDir();
    const { code, stdout, stderr } = await runCli(['report', event.id, '--config', world.configPath, '--out', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const dir = stdout.trim();
    expect(dir).toBe(join(out, event.id.replace(/[^A-Za-z0-9._-]+/g, '_')));
    for (const f of ['report.svg', 'report.png', 'report.csv', 'report.md']) expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, 'report.svg'), 'utf8')).toContain('AS9198');
    expect(readFileSync(join(dir, 'report.csv'), 'utf8').split('\r\n').length).toBeGreaterThan(2);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('# Shutdown in Kazakhstan \\(KZ\\)');
  }, 30_000);

  it('fails cleanly for an unknown event id and for a missing id', async () => {
    const unknown = await runCli(['report', 'shutdown:XX:-:1', '--config', world.configPath, '--out', tempDir()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^lookout report: no event "shutdown:XX:-:1" in .* \(\d+ stored; GET \/api\/v1\/events lists them\)\n$/);
    const missing = await runCli(['report', '--config', world.configPath]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('report needs exactly one EVENT_ID');
  }, 30_000);
});
