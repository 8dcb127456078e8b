import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, sample, startDaemon, tempDir, type Daemon } from '../e2e/harness.js';

// The built daemon with a `blocks:` section, inside the private namespace of scripts/netns-run.sh
// (the loopback answers all of 127.0.0.0/8): 20 hitlist blocks in 127.79.0.0/16 (no other test
// uses it), country XE, AS 64530 and 64531. It must probe them, show them in /metrics and
// /api/v1/status, save what it learned on SIGTERM, and refuse to start on a bad hitlist.

const hitlist = ['address,country,asn', ...Array.from({ length: 20 }, (_, b) => [1, 2, 3, 4].map((h) => `127.79.${b}.${h},XE,${b < 10 ? 64530 : 64531}`)).flat()].join('\n');

let daemon: Daemon | null = null;
let dir = '';

function config(port: number, hitlistFile: string): string {
  return [
    'vantage: { id: ns-blocks }',
    `server: { listen: "127.0.0.1:${port}" }`,
    'storage: { dir: ./data }',
    'blocks:',
    `  sources: [{ file: ${hitlistFile} }]`,
    '  round: 2s',
    '  timeout: 400ms',
    '  min_responsive: 4',
    '  baseline_min_rounds: 1',
    '',
  ].join('\n');
}

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).trim()).toBe('');
});

afterAll(() => {
  daemon?.proc.kill('SIGKILL');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the daemon with block probing on', { timeout: 60_000 }, () => {
  it('probes the blocks and shows them in /metrics and /api/v1/status', async () => {
    const port = await freePort();
    dir = tempDir({ 'hitlist.csv': `${hitlist}\n` });
    const cfg = join(dir, 'lookout.yaml');
    writeFileSync(cfg, config(port, 'hitlist.csv'));
    daemon = await startDaemon(cfg, port, { LOG_LEVEL: 'info' });
    const started = await daemon.waitForLog((l) => l.msg === 'block probing started');
    expect(started).toMatchObject({ blocks: 20, mine: 20, undiscovered: 0 });
    let text = '';
    for (let i = 0; i < 60; i++) {
      text = await daemon.metrics();
      if (sample(text, 'lookout_country_blocks', { country: 'XE', state: 'up' }) === 20 && (sample(text, 'lookout_block_rounds_total') ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(sample(text, 'lookout_country_blocks', { country: 'XE', state: 'up' })).toBe(20);
    expect(sample(text, 'lookout_asn_blocks', { asn: '64531', state: 'monitored' })).toBe(10);
    expect(sample(text, 'lookout_country_blocks_ordinary_ratio', { country: 'XE' })).toBe(1);
    expect(sample(text, 'lookout_block_probes_total', { phase: 'round' })).toBeGreaterThanOrEqual(20);
    const status = (await (await fetch(`http://127.0.0.1:${port}/api/v1/status`)).json()) as { blocks: { monitored: number; countries: { country: string; up: number }[]; asns: { asn: number }[] } };
    expect(status.blocks.monitored).toBe(20);
    expect(status.blocks.countries).toEqual([expect.objectContaining({ country: 'XE', up: 20, ordinary_pct: 100 })]);
    expect(status.blocks.asns.map((a) => a.asn)).toEqual([64530, 64531]);
  });

  it('saves what it learned when stopped', async () => {
    daemon?.proc.kill('SIGTERM');
    expect(await daemon?.exited).toBe(0);
    const state = JSON.parse(readFileSync(join(dir, 'data', 'blocks', 'state.json'), 'utf8')) as { blocks: Record<string, { e: number[] }>; history: Record<string, unknown[]> };
    expect(Object.keys(state.blocks)).toHaveLength(20);
    expect(state.history['country:XE']?.length).toBeGreaterThanOrEqual(1);
  });

  it('a bad hitlist stops the start with the field, file and line', async () => {
    const bad = tempDir({ 'hitlist.csv': 'address,country\n127.79.0.1,XE\n127.79.0.x,XE\n' });
    const cfg = join(bad, 'lookout.yaml');
    writeFileSync(cfg, config(await freePort(), 'hitlist.csv'));
    const { code, stdout, stderr } = await runCli(['run', '--config', cfg]);
    expect(code).toBe(1);
    const fatal = (stdout + stderr).split('\n').filter((l) => l.includes('"level":"fatal"')).map((l) => JSON.parse(l) as { msg: string; problems: string[] });
    expect(fatal[0]?.msg).toBe('invalid config; not starting');
    expect(fatal[0]?.problems).toEqual([expect.stringMatching(/^blocks\.sources\.0\.file: .*hitlist\.csv: line 3: "127\.79\.0\.x" is not an IPv4 address/)]);
    expect(existsSync(join(bad, 'data', 'blocks', 'state.json'))).toBe(false);
    rmSync(bad, { recursive: true, force: true });
  });
});
