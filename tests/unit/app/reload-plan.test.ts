import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planReload, type ReloadSide } from '../../../src/app/reload-plan.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';

// The reload decision on configs as the real loader makes them: what is kept, what is updated,
// and what waits for a restart.

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lookout-reload-plan-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface Parts {
  vantage?: string;
  server?: string;
  storage?: string;
  schedule?: string;
  detection?: string;
  resolver?: string;
  remoteWrite?: string;
  targets?: string[];
}

const TARGETS = ['{ id: kz-a, kind: tcp, host: 127.0.0.1, port: 1, country: KZ }', '{ id: kz-b, kind: tcp, host: 127.0.0.1, port: 2, country: KZ }'];

/**
 * Loads a config made of these sections (each with a default). Always from the same file, as a
 * reload does: a target's `source` is its file's name.
 */
async function load(p: Parts = {}): Promise<Config> {
  const file = join(scratch, 'lookout.yaml');
  const lines = [
    `vantage: ${p.vantage ?? '{ id: kz-1, country: DE }'}`,
    `server: ${p.server ?? '{ listen: "127.0.0.1:9464" }'}`,
    `storage: ${p.storage ?? '{ dir: ./data }'}`,
    `schedule: ${p.schedule ?? '{ interval: 60s, timeout: 10s }'}`,
    ...(p.detection ? [`detection: ${p.detection}`] : []),
    ...(p.resolver ? [`resolver: ${p.resolver}`] : []),
    ...(p.remoteWrite ? [`remote_write: ${p.remoteWrite}`] : []),
    'targets:',
    ...(p.targets ?? TARGETS).map((t) => `  - ${t}`),
  ];
  await writeFile(file, `${lines.join('\n')}\n`);
  return loadConfig(file);
}

const NO_GEO: ReloadSide['geo'] = { country: null, asn: null };

function side(config: Config, geo: ReloadSide['geo'] = NO_GEO): ReloadSide {
  return { config, geo };
}

describe('planReload', () => {
  it('keeps everything, target objects included, when the file is unchanged', async () => {
    const running = await load();
    const plan = planReload(side(running), side(await load()));
    expect(plan).toMatchObject({ needsRestart: [], removed: [], added: 0, scheduler: 'keep', detector: 'keep', resolver: 'keep', geoChanged: false });
    expect(plan.config.targets).toBe(running.targets);
    expect(plan.config).toEqual(running);
  });

  it('updates the scheduler and detector with the new targets, naming the removed ones and counting the added', async () => {
    const running = await load();
    const next = await load({ targets: [TARGETS[1] as string, '{ id: kz-c, kind: tcp, host: 127.0.0.1, port: 3, country: KZ }'] });
    const plan = planReload(side(running), side(next));
    expect(plan.removed).toEqual([running.targets[0]]);
    expect(plan.removed[0]).toBe(running.targets[0]);
    expect(plan.added).toBe(1);
    expect(plan.config.targets).toBe(next.targets);
    expect(plan).toMatchObject({ scheduler: 'update', detector: 'update', resolver: 'keep' });
  });

  it('counts a changed target (same id) as neither added nor removed, and still hands it on', async () => {
    const running = await load();
    const next = await load({ targets: [TARGETS[0] as string, '{ id: kz-b, kind: tcp, host: 127.0.0.1, port: 22, country: KZ }'] });
    const plan = planReload(side(running), side(next));
    expect(plan).toMatchObject({ removed: [], added: 0, scheduler: 'update', detector: 'update' });
    expect(plan.config.targets).toBe(next.targets);
  });

  it('keeps vantage, server and storage (and the storage dir) at their running values and lists them', async () => {
    const running = await load();
    const next = await load({
      vantage: '{ id: kz-2, country: KZ }',
      server: '{ listen: "127.0.0.1:9465" }',
      storage: '{ dir: ./elsewhere, record_results: true }',
      schedule: '{ interval: 30s, timeout: 10s }',
    });
    const plan = planReload(side(running), side(next));
    expect(plan.needsRestart).toEqual(['vantage', 'server', 'storage']);
    expect(plan.config.vantage).toEqual(running.vantage);
    expect(plan.config.server).toEqual(running.server);
    expect(plan.config.storage).toEqual(running.storage);
    expect(plan.config.storageDir).toBe(running.storageDir);
    // What can change at a reload does.
    expect(plan.config.schedule.interval).toBe(30_000);
    expect(plan).toMatchObject({ scheduler: 'update', detector: 'update' });
    expect(plan.config.targets).toBe(running.targets);
  });

  it('updates only the scheduler for a new timeout, only the detector for new detection settings', async () => {
    const running = await load();
    const timeout = planReload(side(running), side(await load({ schedule: '{ interval: 60s, timeout: 5s }' })));
    expect(timeout).toMatchObject({ scheduler: 'update', detector: 'keep', needsRestart: [] });
    const detection = planReload(side(running), side(await load({ detection: '{ down_after: 3 }' })));
    expect(detection).toMatchObject({ scheduler: 'keep', detector: 'update', needsRestart: [] });
    expect(detection.config.detection).not.toEqual(running.detection);
  });

  it('replaces the resolver only when its servers change', async () => {
    const running = await load({ resolver: '{ servers: ["127.0.0.53:53"] }' });
    expect(planReload(side(running), side(await load({ resolver: '{ servers: ["127.0.0.53:53"] }' }))).resolver).toBe('keep');
    expect(planReload(side(running), side(await load({ resolver: '{ servers: ["127.0.0.54:53"] }' }))).resolver).toBe('replace');
    expect(planReload(side(running), side(await load())).resolver).toBe('replace');
  });

  it('hands the remote write list on as loaded, changed or not', async () => {
    const rw = '[{ name: center, url: "http://127.0.0.1:9/api/v1/write" }]';
    const running = await load({ remoteWrite: rw });
    const next = await load({ remoteWrite: rw });
    expect(planReload(side(running), side(next)).remoteWrite).toBe(next.remote_write);
    expect(next.remote_write).toHaveLength(1);
  });

  it('says whether the location databases changed', async () => {
    const running = await load();
    const db = { path: '/geo/country.mmdb', built: '2026-01-01T00:00:00.000Z', type: 'geo-whois-asn-country' };
    expect(planReload(side(running, { country: db, asn: null }), side(running, { country: { ...db }, asn: null })).geoChanged).toBe(false);
    expect(planReload(side(running, { country: db, asn: null }), side(running, { country: { ...db, built: '2026-02-01T00:00:00.000Z' }, asn: null })).geoChanged).toBe(true);
    expect(planReload(side(running, { country: db, asn: null }), side(running)).geoChanged).toBe(true);
  });
});
