import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../src/detect/events.js';
import { promtoolCheckMetrics } from '../fixtures/promtool.js';
import { freePort, runCli, sample, startDaemon, tempDir, type Daemon } from './harness.js';

// The built daemon watches four KZ targets and two controls on loopback. Closing the KZ
// listener is a shutdown of KZ: it must open (API, metrics, log, store), survive a restart
// while it still holds, close when KZ answers again, and replay identically from the
// recorded results.

let kz: Server | null = null;
let kzPort = 0;
let controls: Server;
let daemon: Daemon;
let dir: string;
let apiPort: number;

function tcpServer(): Server {
  return createServer((s) => s.destroy());
}

async function listenOn(server: Server, port = 0): Promise<number> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${apiPort}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; log tail:\n${daemon.logs.slice(-8).map((l) => JSON.stringify(l)).join('\n')}`);
}

const events = async (q = ''): Promise<DisruptionEvent[]> => (await getJson<{ events: DisruptionEvent[] }>(`/api/v1/events${q}`)).body.events;
const openShutdown = async (): Promise<DisruptionEvent | undefined> =>
  (await events('?active=true&kind=shutdown')).find((e) => e.country === 'KZ');

// Both ways: adaptive probing settles the failing country within a second of the restart,
// before the controls answer again at their slots (issue 26).
describe.each([true, false])('with adaptive probing %s', (adaptive) => {
  beforeAll(async () => {
    kz = tcpServer();
    kzPort = await listenOn(kz);
    controls = tcpServer();
    const controlPort = await listenOn(controls);
    apiPort = await freePort();
    dir = tempDir();
    writeFileSync(
      join(dir, 'lookout.yaml'),
      `
vantage: { id: e2e-detect }
server: { listen: "127.0.0.1:${apiPort}" }
storage: { dir: ./data, record_results: true }
schedule: { interval: 1s, timeout: 400ms, confirm_delay: 200ms, adaptive: { enabled: ${adaptive} } }
detection: { evaluate_every: 500ms }
targets:
  - { id: kz-1, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${kzPort} }
  - { id: kz-2, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${kzPort} }
  - { id: kz-3, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: ${kzPort} }
  - { id: kz-4, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: ${kzPort} }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${controlPort} }
  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${controlPort} }
`,
    );
    daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    daemon?.proc.kill('SIGKILL');
    await Promise.all([kz, controls].map((s) => new Promise<void>((r) => (s?.listening ? s.close(() => r()) : r()))));
  });

  describe('a KZ shutdown seen by the daemon', () => {
    let first: DisruptionEvent;

    it('reports KZ reachable while the targets answer', async () => {
      await waitFor(async () => {
        const status = await getJson<{ vantage: { online: boolean | null }; countries: { country: string; state: string; up: number }[] }>('/api/v1/status');
        const kzStatus = status.body.countries.find((c) => c.country === 'KZ');
        return status.body.vantage.online === true && kzStatus?.state === 'ok' && kzStatus.up === 4 ? kzStatus : undefined;
      }, 'KZ to be up');
      const text = await daemon.metrics();
      expect(sample(text, 'lookout_country_reachability_ratio', { country: 'KZ' })).toBe(1);
      expect(sample(text, 'lookout_vantage_online')).toBe(1);
      expect(sample(text, 'lookout_target_up', { target: 'kz-1', asn: '9198' })).toBe(1);
      expect(await events()).toEqual([]);
    });

    it('opens a shutdown when KZ stops answering, with evidence, metrics and a log line', async () => {
      await new Promise<void>((r) => kz!.close(() => r()));
      first = await waitFor(openShutdown, 'a KZ shutdown');
      expect(first).toMatchObject({ kind: 'shutdown', country: 'KZ', severity: 'critical', mechanism: 'tcp_reset', ended_at: null });
      expect(first.evidence).toMatchObject({ eligible: 4, down: 4, ratio: 1, reasons: { tcp_refused: 4 } });
      const text = await daemon.metrics();
      expect(sample(text, 'lookout_disruption_active', { kind: 'shutdown', country: 'KZ' })).toBe(1);
      expect(sample(text, 'lookout_disruptions_total', { kind: 'shutdown', country: 'KZ' })).toBe(1);
      expect(sample(text, 'lookout_country_reachability_ratio', { country: 'KZ' })).toBe(0);
      expect(sample(text, 'lookout_vantage_online')).toBe(1);
      const check = await promtoolCheckMetrics(text);
      expect(check.output).toBe('');
      expect(check.code).toBe(0);
      const line = await daemon.waitForLog((l) => l.msg === 'disruption opened');
      expect(line).toMatchObject({ event: first.id, kind: 'shutdown', country: 'KZ' });
      const status = await getJson<{ countries: { country: string; state: string }[] }>('/api/v1/status');
      expect(status.body.countries.find((c) => c.country === 'KZ')?.state).toBe('shutdown');
    });

    it('keeps the event across a restart while the shutdown holds', async () => {
      daemon.proc.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      const stored = readFileSync(join(dir, 'data/events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DisruptionEvent);
      expect(stored.at(-1)).toMatchObject({ id: first.id, ended_at: null });
      daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
      await daemon.waitForLog((l) => l.msg === 'resuming events still open at the last shutdown');
      // Long enough for the detector to see the targets down again and confirm the event.
      await new Promise((r) => setTimeout(r, 4000));
      const open = await events('?active=true');
      expect(open.map((e) => e.id)).toEqual([first.id]);
    });

    it('closes the event when KZ answers again', async () => {
      kz = tcpServer();
      await listenOn(kz, kzPort);
      const closed = await waitFor(async () => (await events('?active=false')).find((e) => e.id === first.id), 'the shutdown to close');
      expect(closed.ended_at).not.toBeNull();
      expect(Date.parse(closed.ended_at!)).toBeGreaterThan(Date.parse(closed.started_at));
      expect(sample(await daemon.metrics(), 'lookout_disruption_active', { kind: 'shutdown', country: 'KZ' })).toBeUndefined();
      daemon.proc.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    });

    it('rejects a bad events filter with 400', async () => {
      daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
      const bad = await getJson<{ error: string }>('/api/v1/events?active=maybe');
      expect(bad).toEqual({ status: 400, body: { error: 'active: must be true or false' } });
      expect((await events()).map((e) => e.id)).toContain(first.id);
      daemon.proc.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    });

    it('replays the recorded results to the same shutdown, byte-identical on two runs', async () => {
      // Every recorded line names the vantage that saw it, which replay credits the events to.
      const recorded = readFileSync(join(dir, 'data/results.jsonl'), 'utf8').trimEnd().split('\n');
      expect(recorded.length).toBeGreaterThan(10);
      for (const line of recorded) expect((JSON.parse(line) as { vantage?: unknown }).vantage).toEqual({ id: 'e2e-detect' });
      const args = ['replay', '--config', join(dir, 'lookout.yaml'), join(dir, 'data/results.jsonl')];
      const one = await runCli(args);
      const two = await runCli(args);
      expect(one.stderr).toBe('');
      expect(one.code).toBe(0);
      expect(two.stdout).toBe(one.stdout);
      const replayed = one.stdout.trim().split('\n').map((l) => JSON.parse(l) as DisruptionEvent);
      const shutdowns = replayed.filter((e) => e.kind === 'shutdown' && e.country === 'KZ');
      expect(shutdowns.length).toBeGreaterThanOrEqual(1);
      // The closed event keeps the counts of its last evaluation while KZ was down.
      expect(Object.keys(shutdowns[0]?.evidence.reasons ?? {})).toEqual(['tcp_refused']);
      expect(shutdowns[0]?.evidence.down).toBeGreaterThanOrEqual(3);
      expect(shutdowns[0]?.ended_at).not.toBeNull();
    });

    it('replays around bad lines, naming each, and exits 1', async () => {
      const damaged = join(dir, 'damaged.jsonl');
      copyFileSync(join(dir, 'data/results.jsonl'), damaged);
      const lines = readFileSync(damaged, 'utf8').split('\n').length - 1;
      appendFileSync(damaged, 'not json\n{"target":"kz-1"}\n');
      const good = await runCli(['replay', '--config', join(dir, 'lookout.yaml'), join(dir, 'data/results.jsonl')]);
      const bad = await runCli(['replay', '--config', join(dir, 'lookout.yaml'), damaged]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toBe(good.stdout);
      const err = bad.stderr.trim().split('\n');
      expect(err[0]).toMatch(new RegExp(`^${damaged}:${lines + 1}: `));
      expect(err[1]).toMatch(new RegExp(`^${damaged}:${lines + 2}: `));
      expect(err[2]).toBe(`${damaged}: 2 bad lines skipped`);
      // Results for targets the config does not have are counted and named, not dropped in silence.
      const foreign = join(dir, 'foreign.jsonl');
      copyFileSync(join(dir, 'data/results.jsonl'), foreign);
      const other = { target: 'de-1', kind: 'tcp', ok: true, reason: null, phases: { total: 0.01 }, ip: '127.0.0.1', at: 1 };
      appendFileSync(foreign, `${JSON.stringify(other)}\n${JSON.stringify({ ...other, at: 2 })}\n${JSON.stringify({ ...other, target: 'de-2' })}\n`);
      const withForeign = await runCli(['replay', '--config', join(dir, 'lookout.yaml'), foreign]);
      expect(withForeign.code).toBe(0);
      expect(withForeign.stdout).toBe(good.stdout);
      expect(withForeign.stderr).toBe(`${foreign}: 3 results dropped: 2 targets not in the config (de-1, de-2)\n`);
      const missing = await runCli(['replay', '--config', join(dir, 'lookout.yaml'), join(dir, 'nope.jsonl')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('nope.jsonl: cannot read');
    });
  });
});
