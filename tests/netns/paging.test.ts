/**
 * The paging path with the real programs, inside this test's private network namespace: the
 * election-day scenario (`lookout simulate`) and a second daemon watching the same world are
 * scraped by Debian's prometheus running the shipped rules, which sends to Debian's
 * prometheus-alertmanager running the shipped routing, which posts to a webhook here.
 * LookoutCountryShutdown for KZ must arrive and then resolve, two vantages must confirm it, and
 * every dashboard query must return data. Then the vantage-offline scenario must page nobody
 * about a country.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dashboardQueries } from '../fixtures/dashboards.js';
import { freePort, startStack, waitFor, type Stack } from '../fixtures/stack.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/main.js');
const SCENARIOS = join(ROOT, 'scenarios');

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

function run(args: string[]): Child {
  const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
  return { proc, stdout: () => out, exited };
}

/** Runs `body`, then every cleanup it registered (last first), whatever happened. */
async function withCleanup(body: (defer: (c: () => Promise<unknown>) => void) => Promise<void>): Promise<void> {
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    await body((c) => cleanups.push(c));
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

function kill(child: Child): () => Promise<unknown> {
  return async () => {
    if (child.proc.exitCode === null) child.proc.kill('SIGTERM');
    await child.exited;
  };
}

describe('paging: the election day through Prometheus and Alertmanager', () => {
  it('pages LookoutCountryShutdown for KZ, confirms it from two vantages, resolves it, and every dashboard query has data', { timeout: 200_000 }, () =>
    withCleanup(async (defer) => {
    const simPort = await freePort();
    const secondPort = await freePort();
    const stack: Stack = await startStack({
      lookouts: [
        { address: `127.0.0.1:${simPort}`, vantage: 'sim-kz-2019-06-09' },
        { address: `127.0.0.1:${secondPort}`, vantage: 'almaty-2' },
      ],
    });
    defer(() => stack.close());

    const sim = run(['simulate', join(SCENARIOS, 'kz-2019-06-09.yaml'), '--listen', `127.0.0.1:${simPort}`]);
    defer(kill(sim));
    // A second vantage in the same country: the daemon's own `run`, on the world's config.
    const simConfig = await waitFor('the simulation to write its daemon config', () => /^daemon: config (\S+),/m.exec(sim.stdout())?.[1] ?? null, 30_000);
    const dir = mkdtempSync(join(tmpdir(), 'lookout-second-'));
    const config = parse(readFileSync(simConfig, 'utf8')) as {
      vantage: { id: string };
      server: { listen: string };
      storage: { dir: string };
      remote_write?: { url: string; name: string }[];
    };
    config.vantage.id = 'almaty-2';
    config.server.listen = `127.0.0.1:${secondPort}`;
    // Its center is out of reach all along (nothing listens on the discard port), as for a vantage
    // cut off from it: the health dashboard's remote write panels have a queue to show.
    config.storage.dir = join(dir, 'data');
    config.remote_write = [{ url: 'http://127.0.0.1:9/api/v1/write', name: 'center' }];
    const secondConfig = join(dir, 'lookout.yaml');
    writeFileSync(secondConfig, stringify(config));
    const second = run(['run', '--config', secondConfig]);
    defer(kill(second));

    const firing = (alertname: string, status = 'firing') => () =>
      stack.alerts().find((a) => a.labels.alertname === alertname && a.labels.country === 'KZ' && a.status === status) ?? null;

    const shutdown = await waitFor('LookoutCountryShutdown for KZ', firing('LookoutCountryShutdown'), 120_000);
    expect(shutdown.path).toBe('/critical');
    expect(shutdown.labels).toMatchObject({ severity: 'critical', kind: 'shutdown', mechanism: 'blackhole' });
    expect(['sim-kz-2019-06-09', 'almaty-2']).toContain(shutdown.labels.vantage);
    const confirmed = await waitFor('LookoutShutdownConfirmed for KZ', firing('LookoutShutdownConfirmed'), 20_000);
    expect(confirmed.path).toBe('/critical');
    // The streaming block pages too, as a warning.
    const blocking = stack.alerts().find((a) => a.labels.alertname === 'LookoutServiceBlocking' && a.labels.category === 'streaming');
    expect(blocking).toMatchObject({ path: '/warning', labels: { country: 'KZ', mechanism: 'tls' } });

    // A failed reload on the second vantage (the daemon keeps its config), for the health
    // dashboard's annotation; then every dashboard query while the shutdown is on.
    writeFileSync(secondConfig, 'vantage: [this is not a config\n');
    const reload = await fetch(`http://127.0.0.1:${secondPort}/-/reload`, { method: 'POST' });
    expect(reload.status).toBe(400);
    await waitFor('the failed reload to be scraped', async () => ((await stack.query('lookout_config_last_reload_successful == 0')).length > 0 ? true : null), 10_000);

    // The vantage is inside KZ: KZ's own targets answer, the failing ones are abroad (US). A
    // country panel has data for one or the other, as an operator would switch $country.
    const kz = dashboardQueries({ country: 'KZ' });
    const us = dashboardQueries({ country: 'US' });
    expect(kz.length).toBeGreaterThan(30);
    const empty: string[] = [];
    for (const [i, q] of kz.entries()) {
      if ((await stack.query(q.expr)).length > 0) continue;
      const other = us[i];
      if (other !== undefined && other.expr !== q.expr && (await stack.query(other.expr)).length > 0) continue;
      empty.push(`${q.dashboard} / ${q.panel}: ${q.expr}`);
    }
    expect(empty).toEqual([]);

    const resolved = await waitFor('LookoutCountryShutdown for KZ to resolve', firing('LookoutCountryShutdown', 'resolved'), 90_000);
    expect(resolved.at).toBeGreaterThan(shutdown.at);
    expect(await sim.exited, sim.stdout()).toBe(0);
  }));
});

describe('paging: a vantage going offline', () => {
  it('pages LookoutVantageOffline and nobody about a country', { timeout: 150_000 }, () =>
    withCleanup(async (defer) => {
    const simPort = await freePort();
    const stack = await startStack({ lookouts: [{ address: `127.0.0.1:${simPort}`, vantage: 'sim-vantage-offline' }] });
    defer(() => stack.close());
    const sim = run(['simulate', join(SCENARIOS, 'vantage-offline.yaml'), '--listen', `127.0.0.1:${simPort}`]);
    defer(kill(sim));

    const offline = await waitFor('LookoutVantageOffline', () => stack.alerts().find((a) => a.labels.alertname === 'LookoutVantageOffline') ?? null, 60_000);
    expect(offline).toMatchObject({ path: '/critical', status: 'firing', labels: { vantage: 'sim-vantage-offline', severity: 'critical' } });
    expect(await sim.exited, sim.stdout()).toBe(0);
    // Prometheus saw every target fail meanwhile: the rules had every chance to page.
    expect((await stack.query('max_over_time(lookout_vantage_online[5m]) - min_over_time(lookout_vantage_online[5m])'))[0]?.value[1]).toBe('1');
    const aboutCountries = stack.alerts().filter((a) => (a.labels.country ?? '') !== '');
    expect(aboutCountries).toEqual([]);
    await waitFor('LookoutVantageOffline to resolve', () => stack.alerts().find((a) => a.labels.alertname === 'LookoutVantageOffline' && a.status === 'resolved') ?? null, 30_000);
  }));
});
