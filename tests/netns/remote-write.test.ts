import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCenter, type Center, type RangeSeries } from '../fixtures/center.js';
import { createHosts, LINK, type Bridge, type Hosts } from '../fixtures/hosts.js';
import { sample, startDaemon, type Daemon } from '../e2e/harness.js';
import { waitFor } from '../fixtures/stack.js';

// Issue 12, end to end across two hosts (tests/fixtures/hosts.ts): the in-country vantage (the
// real daemon and its world of targets) and the center (Debian's prometheus 2.42 running the
// shipped prometheus-center.yml as a remote-write receiver, behind a counting proxy), joined by
// a veth pair on 127.200.0.0/30.
//
// Two daemons run in the vantage, both writing to the center: "kz-inside" with a roomy queue
// and "kz-small" with the smallest queue budget. While a gateway cut plays (international
// targets and controls dropped by iptables in the vantage), the link to the center is cut for
// LINK_CUT_MS; kz-inside is SIGKILLed and restarted during the link cut; the link comes back.
// The center must then hold kz-inside's samples from inside the cut (per-target success,
// lookout_disruption_active for the gateway cut) without a gap beyond one interval but for the
// daemon's own down time, and without a duplicate; kz-small must have dropped and counted its
// oldest samples and delivered its newest.

const ROOT = resolve(import.meta.dirname, '../..');
// A failing probe takes timeout + confirm_delay + timeout (its confirmation): well under the
// interval, or the scheduler skips the next probe and the series has a gap of its own making.
const INTERVAL_MS = 2000;
const TIMEOUT_MS = 500;
const CONFIRM_MS = 200;
const LINK_CUT_MS = 150_000;
const KILL_AFTER_MS = 40_000;
const DOWN_MS = 5_000;
/** How long the test watches after the link is back (kz-small's newest samples). */
const AFTER_MS = 10_000;
const SMALL_COPIES = 3;
const PROM_PORT = 9090;
const PROXY_PORT = 9201;
/**
 * A sample missing leaves a gap of two intervals. A result's time is when it completed, so a
 * failing probe's confirmation (timeout + confirm_delay + timeout) and the scheduler's jitter
 * stretch a gap beyond one interval without anything missing; 1.75 intervals tells them apart.
 * The exact check is against the daemon's own record of its results (record_results).
 */
const MAX_GAP_MS = 1.75 * INTERVAL_MS;

const DOMESTIC = '127.0.0.1';
const ABROAD = ['127.0.1.1', '127.0.1.2', '127.0.1.3'];
const CONTROLS = '127.0.2.1';

interface Timeline {
  gatewayCut: number;
  linkCut: number;
  killed: number;
  restarted: number;
  linkBack: number;
}

let hosts: Hosts;
let center: Center;
let promApi: Bridge;
let proxyApi: Bridge;
const apis: Record<string, Bridge> = {};
const children: ChildProcess[] = [];
const daemons: Daemon[] = [];
let dir: string;
const t: Partial<Timeline> = {};

/** The world's targets, `copies` times over (ids suffixed -2, -3… after the first). */
function targets(copies: number): string {
  const http = (id: string, country: string, host: string, category: string): string =>
    `  - { id: ${id}, kind: http, url: "http://${host}:8080/", country: ${country}, category: ${category} }`;
  const tcp = (id: string, country: string, host: string, category: string, control = false): string =>
    `  - { id: ${id}, kind: tcp, host: ${host}, port: 8443, country: ${country}, category: ${category}${control ? ', control: true' : ''} }`;
  const one = (n: string): string[] => [
    http('kz-gov-1', 'KZ', DOMESTIC, 'government'),
    http('kz-gov-2', 'KZ', DOMESTIC, 'government'),
    http('kz-news-1', 'KZ', DOMESTIC, 'news'),
    tcp('kz-isp-1', 'KZ', DOMESTIC, 'isp'),
    tcp('kz-isp-2', 'KZ', DOMESTIC, 'isp'),
    http('us-news-1', 'US', ABROAD[0] as string, 'news'),
    http('us-news-2', 'US', ABROAD[0] as string, 'news'),
    http('de-news-1', 'DE', ABROAD[1] as string, 'news'),
    tcp('de-isp-1', 'DE', ABROAD[1] as string, 'isp'),
    http('gb-news-1', 'GB', ABROAD[2] as string, 'news'),
    tcp('gb-isp-1', 'GB', ABROAD[2] as string, 'isp'),
    tcp('ctl-1', 'ZZ', CONTROLS, 'control', true),
    tcp('ctl-2', 'ZZ', CONTROLS, 'control', true),
    tcp('ctl-3', 'ZZ', CONTROLS, 'control', true),
  ].map((line) => line.replace(/id: ([a-z0-9-]+)/, `id: $1${n}`));
  return Array.from({ length: copies }, (_, i) => one(i === 0 ? '' : `-${i + 1}`)).flat().join('\n');
}

function config(id: string, port: number, maxBytes: string, copies: number): string {
  const path = join(dir, `${id}.yaml`);
  writeFileSync(
    path,
    `vantage: { id: ${id}, country: KZ }
server: { listen: "127.0.0.1:${port}" }
storage: { dir: ${join(dir, id)}, record_results: true }
schedule: { interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms, confirm_delay: ${CONFIRM_MS}ms }
detection: { evaluate_every: ${INTERVAL_MS}ms }
remote_write:
  - url: http://${LINK.center}:${PROXY_PORT}/api/v1/write
    name: center
    queue: { max_bytes: ${maxBytes}, batch_samples: 2000, send_interval: 1s }
targets:
${targets(copies)}
`,
  );
  return path;
}

async function start(id: string, port: number, maxBytes: string, copies = 1): Promise<Daemon> {
  const d = await startDaemon(config(id, port, maxBytes, copies), port, { LOG_LEVEL: 'info' }, hosts.vantage.argv([]));
  daemons.push(d);
  return d;
}

async function spawnReady(argv: string[], what: string): Promise<ChildProcess> {
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((res, rej) => {
    child.stdout?.on('data', (c: Buffer) => (c.toString().includes('ready') ? res() : undefined));
    child.once('exit', (code) => rej(new Error(`${what} exited (${code}): ${err}`)));
  });
  return child;
}

async function metrics(id: string): Promise<string> {
  const res = await (apis[id] as Bridge).fetch('/metrics');
  return res.text();
}

const sec = (ms: number): number => ms / 1000;
const linkBack0 = (): number => t.linkBack ?? Date.now();

/** Raw samples of `selector` from `from` to `to` (ms), series by series. */
async function raw(selector: string, from: number, to: number): Promise<RangeSeries[]> {
  return center.query(`${selector}[${Math.ceil(sec(to - from)) + 1}s]`, sec(to));
}

/** Gaps between consecutive samples (and the window's edges) longer than `limit` ms. */
function gaps(times: number[], from: number, to: number, limit: number): { from: number; to: number }[] {
  const points = [from, ...times.filter((x) => x > from && x < to), to];
  const out: { from: number; to: number }[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as number;
    const b = points[i] as number;
    if (b - a > limit) out.push({ from: a, to: b });
  }
  return out;
}

const times = (s: RangeSeries): number[] => s.values.map(([x]) => Math.round(x * 1000));

/** The probe results a daemon recorded locally (storage.record_results), from `from` to `to` (ms). */
function recorded(id: string, from: number, to: number): { target: string; ok: boolean; at: number }[] {
  return readFileSync(join(dir, id, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { target: string; ok: boolean; at: number })
    .filter((r) => r.at > from && r.at < to);
}

/** Recorded results with no lookout_probe_success sample of the same target, time and value at the center. */
function missingAtCenter(results: { target: string; ok: boolean; at: number }[], series: RangeSeries[]): string[] {
  const have = new Set(series.flatMap((s) => s.values.map(([x, v]) => `${s.metric.target} ${Math.round(x * 1000)} ${v}`)));
  return results.filter((r) => !have.has(`${r.target} ${r.at} ${r.ok ? 1 : 0}`)).map((r) => `${r.target}@${r.at}`);
}

async function iptablesGatewayCut(on: boolean): Promise<void> {
  for (const net of ['127.0.1.0/24', `${CONTROLS}/32`]) await hosts.vantage.exec(['iptables', '-w', on ? '-I' : '-D', 'OUTPUT', '-d', net, '-j', 'DROP']);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lookout-rw-e2e-'));
  hosts = await createHosts();
  promApi = await hosts.center.bridge(PROM_PORT);
  center = await startCenter({ port: PROM_PORT, argv: hosts.center.argv, fetch: (path, init) => promApi.fetch(path, init) });
  await spawnReady(hosts.center.argv([process.execPath, join(ROOT, 'tests/fixtures/rw-proxy.mjs'), String(PROM_PORT), String(PROXY_PORT), LINK.center, '127.0.0.1']), 'the proxy');
  proxyApi = await hosts.center.bridge(PROXY_PORT);
  const world = [DOMESTIC, ...ABROAD].map((h) => `${h}:8080:http`);
  for (const h of [DOMESTIC, ...ABROAD, CONTROLS]) world.push(`${h}:8443:tcp`);
  await spawnReady(hosts.vantage.argv([process.execPath, join(ROOT, 'tests/fixtures/loopback-world.mjs'), ...world]), 'the world');
  apis['kz-inside'] = await hosts.vantage.bridge(9464);
  apis['kz-small'] = await hosts.vantage.bridge(9465);
}, 60_000);

afterAll(async () => {
  for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGKILL');
  for (const c of children) c.kill('SIGKILL');
  for (const b of [promApi, proxyApi, ...Object.values(apis)]) await b?.close().catch(() => undefined);
  await center?.close();
  await hosts?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('remote write across two hosts: a gateway cut, the link to the center cut for minutes, a SIGKILL', () => {
  it('plays the scenario, and the center fills in once the link is back', { timeout: 300_000 }, async () => {
    let inside = await start('kz-inside', 9464, '64MiB');
    // Three times the targets: its smallest budget (64KiB) then holds well under the cut.
    const small = await start('kz-small', 9465, '64KiB', SMALL_COPIES);
    await waitFor('both vantages to reach the center', async () => {
      const got = await center.query('count by (vantage) (lookout_vantage_online == 1)');
      return got.length === 2 ? true : null;
    }, 30_000);
    // Every country seen up by both before the cut: a target never seen up is dead, not down, and
    // a gateway cut of targets that never answered is not one (docs/detection.md).
    await waitFor('every country reachable from both vantages', async () => {
      const got = await center.query('count by (vantage) (lookout_country_reachability_ratio == 1) == 4');
      return got.length === 2 ? true : null;
    }, 30_000);

    t.gatewayCut = Date.now();
    await iptablesGatewayCut(true);
    await new Promise((r) => setTimeout(r, 2000));
    t.linkCut = Date.now();
    await hosts.cutLink();

    await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
    const during = await metrics('kz-inside');
    expect(sample(during, 'lookout_remote_write_pending_samples', { remote: 'center' })).toBeGreaterThan(0);
    expect(sample(during, 'lookout_remote_write_oldest_pending_age_seconds', { remote: 'center' })).toBeGreaterThan(sec(KILL_AFTER_MS) - 5);
    expect(sample(during, 'lookout_disruption_active', { kind: 'shutdown', country: 'KZ' })).toBe(1);
    const pending = sample(during, 'lookout_remote_write_pending_samples', { remote: 'center' }) ?? 0;
    const pendingBytes = sample(during, 'lookout_remote_write_pending_bytes', { remote: 'center' }) ?? 0;
    console.log(`kz-inside after ${sec(KILL_AFTER_MS)} s of cut: ${pending} samples pending in ${pendingBytes} bytes (${(pendingBytes / pending).toFixed(1)} bytes/sample, ${(pending / sec(Date.now() - t.linkCut)).toFixed(1)} samples/s)`);
    t.killed = Date.now();
    inside.proc.kill('SIGKILL');
    await inside.exited;
    await new Promise((r) => setTimeout(r, DOWN_MS));
    inside = await start('kz-inside', 9464, '64MiB');
    t.restarted = Date.now();

    const linkCut = t.linkCut;
    await new Promise((r) => setTimeout(r, Math.max(0, linkCut + LINK_CUT_MS - Date.now())));
    // Nothing of the cut reached the center meanwhile.
    expect(await raw('lookout_probe_success{vantage="kz-inside"}', linkCut + 2000, Date.now())).toEqual([]);
    t.linkBack = Date.now();
    await hosts.restoreLink();

    await inside.waitForLog((l) => l.msg === 'remote write recovered', 60_000);
    for (const id of ['kz-inside', 'kz-small']) {
      await waitFor(`${id} to drain its queue`, async () => (sample(await metrics(id), 'lookout_remote_write_pending_samples', { remote: 'center' }) === 0 ? true : null), 60_000);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, linkBack0() + AFTER_MS + 2 * INTERVAL_MS - Date.now())));
    await waitFor('kz-small to be drained again', async () => (sample(await metrics('kz-small'), 'lookout_remote_write_pending_samples', { remote: 'center' }) === 0 ? true : null), 30_000);
    await iptablesGatewayCut(false);
    expect(small.logs.some((l) => l.msg === 'remote write queue over budget, dropped oldest samples')).toBe(true);
  });

  it('the center holds every per-target sample of kz-inside from inside the cut, gaps only around the SIGKILL', async () => {
    const { linkCut, linkBack, killed, restarted, gatewayCut } = t as Timeline;
    const series = await raw('lookout_probe_success{vantage="kz-inside"}', linkCut, linkBack);
    expect(series.map((s) => s.metric.target).sort()).toEqual(
      ['kz-gov-1', 'kz-gov-2', 'kz-news-1', 'kz-isp-1', 'kz-isp-2', 'us-news-1', 'us-news-2', 'de-news-1', 'de-isp-1', 'gb-news-1', 'gb-isp-1', 'ctl-1', 'ctl-2', 'ctl-3'].sort(),
    );
    // The daemon was down from the SIGKILL until it started again; a probe result in flight at
    // the kill (not yet fsynced) and the first interval after the start are lost with it.
    const killBound = restarted - killed + 2 * INTERVAL_MS + 1000;
    const report: string[] = [];
    for (const s of series) {
      const found = gaps(times(s), linkCut, linkBack, MAX_GAP_MS);
      const outside = found.filter((g) => g.to < killed || g.from > restarted);
      expect(outside, `${s.metric.target}: gaps outside the daemon's down time`).toEqual([]);
      for (const g of found) {
        expect(g.to - g.from, `${s.metric.target}: the gap around the SIGKILL`).toBeLessThanOrEqual(killBound);
        report.push(`${s.metric.target} ${g.to - g.from}ms`);
      }
      // The gateway cut's evidence: domestic targets up, international ones and controls down.
      const settled = s.values.filter(([x]) => x * 1000 > gatewayCut + 3 * INTERVAL_MS);
      const expected = s.metric.country === 'KZ' ? '1' : '0';
      expect(new Set(settled.map(([, v]) => v)), s.metric.target).toEqual(new Set([expected]));
    }
    console.log(`gaps around the SIGKILL (down ${restarted - killed} ms, bound ${killBound} ms): ${report.join(', ')}`);

    // Exactly: every result the daemon recorded during the cut is at the center with its time
    // and outcome, but those of the last moments before the SIGKILL (not yet fsynced to the queue).
    const results = recorded('kz-inside', linkCut, linkBack);
    expect(results.length).toBeGreaterThan(series.length * sec(LINK_CUT_MS - DOWN_MS) / sec(INTERVAL_MS) / 2);
    const missing = missingAtCenter(results, series);
    const lostToKill = missing.filter((m) => {
      const at = Number(m.split('@')[1]);
      return at > killed - 2 * INTERVAL_MS && at <= killed;
    });
    expect(missing.filter((m) => !lostToKill.includes(m))).toEqual([]);
    console.log(`kz-inside: ${results.length} results recorded during the cut, ${results.length - missing.length} at the center, ${lostToKill.length} lost to the SIGKILL`);
  });

  it('the center holds lookout_disruption_active for the gateway cut, opened and held inside the cut', async () => {
    const { linkCut, linkBack, killed, restarted } = t as Timeline;
    const series = await raw('lookout_disruption_active{vantage="kz-inside",kind="shutdown",country="KZ"}', linkCut, linkBack);
    expect(series).toHaveLength(1);
    const s = series[0] as RangeSeries;
    const ones = s.values.filter(([, v]) => v === '1').map(([x]) => Math.round(x * 1000));
    expect(ones.length).toBeGreaterThan(0);
    const opened = Math.min(...ones);
    expect(opened).toBeGreaterThan(linkCut);
    const found = gaps(ones, opened, linkBack, MAX_GAP_MS).filter((g) => g.to < killed || g.from > restarted);
    expect(found).toEqual([]);
    const all = await raw('lookout_disruption_active{vantage="kz-inside"}', linkCut, linkBack);
    console.log(`kz-inside events during the cut: ${all.map((x) => `${x.metric.kind}/${x.metric.country} ${x.values.filter(([, v]) => v === '1').length}×1 ${x.values.filter(([, v]) => v === '0').length}×0`).join(', ')}; the shutdown opened ${sec(opened - linkCut).toFixed(1)} s into the link cut`);
  });

  it('no (series, timestamp) pair reached the center twice, and none was refused', async () => {
    const stats = (await (await proxyApi.fetch('/stats')).json()) as { requests: { ok: number; refused: number }; samples: Record<string, number>; duplicateCount: number; duplicates: unknown[] };
    expect(stats.duplicates).toEqual([]);
    expect(stats.duplicateCount).toBe(0);
    expect(stats.requests.refused).toBe(0);
    expect(stats.samples['kz-inside']).toBeGreaterThan(0);
    // kz-small never restarted: what it counts as sent is exactly what the center acknowledged.
    const m = await metrics('kz-small');
    expect(sample(m, 'lookout_remote_write_samples_sent_total', { remote: 'center' })).toBe(stats.samples['kz-small']);
  });

  it('kz-small, over its budget, dropped and counted its oldest samples and delivered its newest', async () => {
    const { linkCut, linkBack } = t as Timeline;
    const m = await metrics('kz-small');
    const dropped = sample(m, 'lookout_remote_write_samples_dropped_total', { remote: 'center' }) ?? 0;
    expect(dropped).toBeGreaterThan(0);
    const after = linkBack + AFTER_MS;
    const series = await raw('lookout_probe_success{vantage="kz-small"}', linkCut, after);
    expect(series.length).toBe(14 * SMALL_COPIES);
    // The oldest part of the cut is gone ...
    for (const s of series) expect(times(s).filter((x) => x > linkCut && x < linkCut + LINK_CUT_MS / 2), s.metric.target).toEqual([]);
    // ... the newest is there: every result of the cut's last seconds and of the first ones
    // after the link came back. (Older ones may be dropped even while the backlog drains: the
    // queue stays over its budget until the backlog is acknowledged.)
    const newest = recorded('kz-small', linkBack - 5000, after);
    expect(newest.length).toBeGreaterThan(0);
    expect(missingAtCenter(newest, series)).toEqual([]);
    const kept = series.flatMap((s) => times(s).filter((x) => x > linkCut && x < linkBack));
    const holes = series.flatMap((s) => gaps(times(s).filter((x) => x > linkCut), Math.min(...kept), linkBack, MAX_GAP_MS).map((g) => `${s.metric.target} at +${sec(g.from - linkCut).toFixed(1)}s`));
    console.log(`kz-small dropped ${dropped} samples; it kept the cut's last ${sec(linkBack - Math.min(...kept)).toFixed(1)} s of ${sec(LINK_CUT_MS)} s; holes in what it kept: ${holes.length === 0 ? 'none' : holes.join(', ')}`);
  });
});
