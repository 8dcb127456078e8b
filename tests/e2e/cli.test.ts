import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runCli, tempDir } from './harness.js';

const fixture = (p: string): string => resolve(import.meta.dirname, '../fixtures/config', p);

describe('lookout check-config', () => {
  it('prints all five mistakes of a broken config, each with its path, and exits 1', async () => {
    const { code, stdout, stderr } = await runCli(['check-config', '--config', fixture('five-mistakes/config/lookout.yaml')]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toEqual([
      'detection.baseline_window: invalid duration "6 hours": use a positive number with ms, s, m or h (500ms, 10s, 5m, 1h)',
      'schedule.timout: unknown key',
      'targets.0 (local-tcp).country: required: set country on the target or vantage.country',
      '../probes/a.yaml: targets.0 (kz-web).url: must be an http:// or https:// URL',
      '../probes/b.yaml: targets.1 (kz-dns): duplicate id, first defined in ../probes/a.yaml targets.1',
      `${fixture('five-mistakes/config/lookout.yaml')}: 5 problems`,
    ]);
  });

  it('exits 0 on a valid config and on the shipped default config', async () => {
    const valid = await runCli(['check-config', '--config', fixture('valid/config/lookout.yaml')]);
    expect(valid.stderr).toBe('');
    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/: ok \(\d+ targets from \d+ files\)/);
    const shipped = await runCli(['check-config', '--config', resolve(import.meta.dirname, '../../config/lookout.yaml')]);
    expect(shipped.stderr).toBe('');
    expect(shipped.code).toBe(0);
  });

  it('takes the config from LOOKOUT_CONFIG', async () => {
    const { code, stderr } = await runCli(['check-config'], { LOOKOUT_CONFIG: fixture('five-mistakes/config/lookout.yaml') });
    expect(code).toBe(1);
    expect(stderr).toContain('schedule.timout: unknown key');
  });

  it('exits 2 with usage on a bad command line', async () => {
    const { code, stderr } = await runCli(['frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate"');
    expect(stderr).toContain('Usage: lookout');
  });

  it('refuses to run with an invalid config, logging every problem, exit 1', async () => {
    const { code, stdout } = await runCli(['run', '--config', fixture('five-mistakes/config/lookout.yaml')]);
    expect(code).toBe(1);
    const fatal = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: string; msg: string; problems?: string[] })
      .find((l) => l.level === 'fatal');
    expect(fatal?.msg).toBe('invalid config; not starting');
    expect(fatal?.problems).toHaveLength(5);
  });

  it('exits 1 with a fatal log line naming the error when the listen address is taken', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const dir = tempDir();
    writeFileSync(join(dir, 'lookout.yaml'), `vantage: { id: busy, country: KZ }\nserver: { listen: "127.0.0.1:${port}" }\n`);
    try {
      const { code, stdout } = await runCli(['run', '--config', join(dir, 'lookout.yaml')]);
      expect(code).toBe(1);
      const fatal = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { level: string; msg: string; err?: { code?: string } })
        .find((l) => l.level === 'fatal');
      expect(fatal?.msg).toBe('startup failed');
      expect(fatal?.err?.code).toBe('EADDRINUSE');
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
