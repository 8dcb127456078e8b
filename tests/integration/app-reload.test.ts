import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { parseExposition, type Sample } from '../fixtures/exposition.js';
import { freePort, waitFor } from '../fixtures/stack.js';

// A valid reload through the real app, probing a loopback listener: the plan it applies
// (src/app/reload-plan.ts) shows in what the daemon probes, exports and keeps.

let dir: string;
let listener: Server;
let port: number;
let listen: string;
let app: App;
const logs: Record<string, unknown>[] = [];

function config(opts: { listen?: string; targets: string[] }): string {
  return [
    'vantage: { id: reload-1 }',
    `server: { listen: "${opts.listen ?? listen}" }`,
    'storage: { dir: ./data }',
    'geo: { country_db: null }',
    'schedule: { interval: 1s, timeout: 500ms, confirm_delay: 200ms }',
    'targets:',
    ...opts.targets.map((id) => `  - { id: ${id}, kind: tcp, host: 127.0.0.1, port: ${port}, country: KZ }`),
    '',
  ].join('\n');
}

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${app.address.port}/metrics`);
  return parseExposition(await res.text());
}

async function successTargets(): Promise<string[]> {
  return (await scrape())
    .filter((s) => s.name === 'lookout_probe_success')
    .map((s) => s.labels.target as string)
    .sort();
}

beforeAll(async () => {
  listener = createServer((s) => s.destroy());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  port = (listener.address() as { port: number }).port;
  listen = `127.0.0.1:${await freePort()}`;
  dir = await mkdtemp(join(tmpdir(), 'lookout-app-reload-'));
  await writeFile(join(dir, 'lookout.yaml'), config({ targets: ['kz-a', 'kz-b'] }));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  app = await startApp({ configPath: join(dir, 'lookout.yaml'), log: createLogger('info', sink), version: 'test', nodeVersion: process.version });
  await waitFor('both targets probed', async () => ((await successTargets()).length === 2 ? true : null));
}, 20_000);

afterAll(async () => {
  await app?.stop(500);
  await new Promise<void>((r) => listener.close(() => r()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a valid reload', () => {
  it('keeps the running targets as they are when the file did not change', async () => {
    const before = app.config.targets;
    expect(await app.reload()).toEqual({ ok: true, problems: [] });
    expect(app.config.targets).toBe(before);
    expect(logs.filter((l) => l.msg === 'config reloaded').at(-1)).toMatchObject({ targets: 2, added: 0, removed: 0 });
  });

  it('drops a removed target and its series, probes an added one, and keeps the listener until a restart', async () => {
    const address = { ...app.address };
    await writeFile(join(dir, 'lookout.yaml'), config({ listen: `127.0.0.1:${await freePort()}`, targets: ['kz-b', 'kz-c'] }));
    expect(await app.reload()).toEqual({ ok: true, problems: [] });
    expect(app.config.targets.map((t) => t.id)).toEqual(['kz-b', 'kz-c']);
    expect(app.config.server.listen).toBe(listen);
    expect(app.address).toEqual(address);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'config change needs a restart to take effect; running with the old value', field: 'server' }));
    expect(logs.filter((l) => l.msg === 'config reloaded').at(-1)).toMatchObject({ targets: 2, added: 1, removed: 1 });
    expect(await successTargets()).not.toContain('kz-a');
    await waitFor('the added target probed', async () => ((await successTargets()).join() === 'kz-b,kz-c' ? true : null));
    const reloads = (await scrape()).find((s) => s.name === 'lookout_config_reloads_total' && s.labels.result === 'success');
    // The start counts as one good load, then the two reloads.
    expect(reloads?.value).toBe(3);
  });
});
