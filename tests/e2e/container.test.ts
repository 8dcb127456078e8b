import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './harness.js';

// No Docker engine runs here, so the image cannot be built in the suite. What can be checked
// without one is checked: the Dockerfile's promises, and that the config layout the image
// builds (/etc/lookout + /etc/probes, data in the volume) is a valid config.

const ROOT = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

describe('Dockerfile', () => {
  it('runs Node 24 slim as a non-root user with a volume, a port and a curl-free healthcheck', () => {
    expect(dockerfile).toMatch(/^FROM node:24-slim AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:24-slim$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/var\/lib\/lookout"\]$/m);
    expect(dockerfile).toMatch(/^EXPOSE 9464$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK [^\n]*\\\n\s+CMD \["node", "\/app\/dist\/main.js", "healthcheck"\]/);
    const instructions = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
    expect(instructions).not.toMatch(/curl|wget/);
    // Exec form: node is PID 1 and gets SIGTERM itself.
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/main.js"\]$/m);
  });

  it('builds a config layout that check-config accepts', async () => {
    const sed = /sed -i '([^']+)' \/etc\/lookout\/lookout.yaml/.exec(dockerfile)?.[1];
    expect(sed).toBeDefined();
    const root = tempDir();
    mkdirSync(join(root, 'etc/lookout'), { recursive: true });
    cpSync(join(ROOT, 'config/lookout.yaml'), join(root, 'etc/lookout/lookout.yaml'));
    cpSync(join(ROOT, 'probes'), join(root, 'etc/probes'), { recursive: true });
    execFileSync('sed', ['-i', sed as string, join(root, 'etc/lookout/lookout.yaml')]);
    const config = readFileSync(join(root, 'etc/lookout/lookout.yaml'), 'utf8');
    expect(config).toMatch(/^ {2}dir: \/var\/lib\/lookout$/m);
    const { code, stderr } = await runCli(['check-config'], { LOOKOUT_CONFIG: join(root, 'etc/lookout/lookout.yaml') });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('keeps the build context small', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', 'data', '.git', 'tests']) expect(ignore).toContain(entry);
  });
});
