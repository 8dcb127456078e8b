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
      'schedule.timout: unknown key (did you mean "timeout"?)',
      'targets.0 (local-tcp).country: required: set country on the target or vantage.country',
      // File names relative to the current folder (here the repository), as the config's was typed.
      'tests/fixtures/config/five-mistakes/probes/a.yaml: targets.0 (kz-web).url: must be an http:// or https:// URL',
      'tests/fixtures/config/five-mistakes/probes/b.yaml: targets.1 (kz-dns): duplicate id, first defined in tests/fixtures/config/five-mistakes/probes/a.yaml targets.1',
      `${fixture('five-mistakes/config/lookout.yaml')}: 5 problems`,
    ]);
  });

  it('exits 0 on a valid config and on the shipped default config', async () => {
    // A copy: check-config creates the storage folder (../data) as the daemon would.
    const copy = tempDir();
    (await import('node:fs')).cpSync(fixture('valid'), copy, { recursive: true });
    const valid = await runCli(['check-config', '--config', join(copy, 'config/lookout.yaml')]);
    expect(valid.stderr).toBe('');
    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/: ok \(\d+ targets from \d+ files\)/);
    const shipped = await runCli(['check-config', '--config', resolve(import.meta.dirname, '../../config/lookout.yaml')]);
    expect(shipped.stderr).toBe('');
    expect(shipped.code).toBe(0);
  });

  it('catches what an operator mistypes: country codes, misspelt keys, a glob in the wrong folder; names files from one folder', async () => {
    const dir = tempDir();
    (await import('node:fs')).mkdirSync(join(dir, 'conf'));
    (await import('node:fs')).mkdirSync(join(dir, 'probes'));
    writeFileSync(
      join(dir, 'conf/lookout.yaml'),
      [
        'vantage: { id: x, contry: DE }',
        'catalogs: ["../probes/*.yaml", "probes/*.yaml"]',
        'targets: [{ id: a, kind: tcp, host: 127.0.0.1, port: 9, country: UK, control: true }]',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'probes/xx.yaml'), 'country: XX\ntargets: [{ id: a, kind: tcp, hst: 127.0.0.1, port: 9 }, { id: b, kind: tcp, host: 127.0.0.1, port: 9, country: kz }]\n');
    const { code, stderr } = await runCli(['check-config', '--config', 'conf/lookout.yaml'], {}, dir);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `catalogs.1: "probes/*.yaml" matches no file in ${join(dir, 'conf')} (globs are relative to the config file's folder)`,
      'targets.0 (a).country: "UK" is not an ISO 3166-1 alpha-2 country code (did you mean GB?)',
      'vantage.contry: unknown key (did you mean "country"?)',
      'probes/xx.yaml: country: "XX" is not an ISO 3166-1 alpha-2 country code such as KZ (ZZ: no country)',
      'probes/xx.yaml: targets.0 (a): duplicate id, first defined in conf/lookout.yaml targets.0',
      'probes/xx.yaml: targets.0 (a).host: required (expected string)',
      'probes/xx.yaml: targets.0 (a).hst: unknown key (did you mean "host"?)',
      'probes/xx.yaml: targets.1 (b).country: "kz": country codes are upper case (KZ)',
      'conf/lookout.yaml: 8 problems',
    ]);
  });

  it('accepts ZZ (no country), and warns about a config without controls with exit 0', async () => {
    const dir = tempDir({ 'lookout.yaml': 'vantage: { id: x }\ntargets: [{ id: a, kind: tcp, host: 127.0.0.1, port: 9, country: ZZ }]\n' });
    const { code, stdout, stderr } = await runCli(['check-config', '--config', join(dir, 'lookout.yaml')]);
    expect(code).toBe(0);
    expect(stdout).toContain(': ok (1 targets from 1 files)');
    expect(stderr).toBe('warning: no control targets: the daemon cannot tell its own outage from a real one (mark a few well-spread targets with control: true, see probes/controls.yaml)\n');
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
