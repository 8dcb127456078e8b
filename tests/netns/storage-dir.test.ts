import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, MAIN, tempDir } from '../e2e/harness.js';

// A storage folder the daemon cannot use, as an operator's own config in the container gives
// one (storage.dir left at ../data, which lands on the read-only root): check-config must find
// it, testing it the way the daemon does (create it if absent, write in it), and the daemon's
// start-up error must name the folder, the real errno (EROFS, not ENOENT) and what to fix, once.
// The read-only file system is a tmpfs mounted read-only in a private mount namespace of the
// command alone (unshare --mount), so the host's mounts are never touched.

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a read-only tmpfs mounted on `ro` in a mount namespace of its own. */
function runReadOnly(ro: string, args: string[]): Promise<Run> {
  const script = 'mount -t tmpfs -o ro,size=16k lookout-ro "$0" && exec "$@"';
  const argv = ['--mount', '--propagation', 'private', 'sh', '-c', script, ro, process.execPath, MAIN, ...args];
  return new Promise((res) => {
    const p = spawn('unshare', argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

function config(dir: string, storage: string, port = 9464): string {
  const file = join(dir, 'lookout.yaml');
  writeFileSync(file, `vantage: { id: ro }\nserver: { listen: "127.0.0.1:${port}" }\nstorage: { dir: ${storage} }\ntargets: [{ id: c, kind: tcp, host: 127.0.0.1, port: 9, country: ZZ, control: true }]\n`);
  return file;
}

const FIX = 'set storage.dir to a writable folder';

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
});

describe('a storage folder on a read-only file system', () => {
  it('check-config: a folder that would have to be created there is a problem naming folder, EROFS and the fix', async () => {
    const dir = tempDir();
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    const r = await runReadOnly(ro, ['check-config', '--config', config(dir, './ro/data')]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`storage.dir: storage folder ${join(ro, 'data')}: cannot create ${join(ro, 'data')}: the file system is mounted read-only (EROFS); ${FIX} (relative paths are relative to the config file; in the container mount a volume at /var/lib/lookout and set storage.dir: /var/lib/lookout) or make this one writable for the user the daemon runs as`);
    expect(lines).toHaveLength(2);
    expect(r.stderr).not.toContain('ENOENT');
  });

  it('check-config: an existing folder on it is a problem too (cannot write in it)', async () => {
    const dir = tempDir();
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    const r = await runReadOnly(ro, ['check-config', '--config', config(dir, './ro')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`storage.dir: storage folder ${ro}: cannot write in it: the file system is mounted read-only (EROFS); ${FIX}`);
  });

  it('check-config creates a missing folder on a writable disk, as the daemon would', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'elsewhere'));
    const r = await runReadOnly(join(dir, 'elsewhere'), ['check-config', '--config', config(dir, './data/events')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'data/events'))).toBe(true);
  });

  it('run: refuses to start with one fatal line naming the folder, EROFS and the fix, said once', async () => {
    const dir = tempDir();
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    const r = await runReadOnly(ro, ['run', '--config', config(dir, './ro/data', await freePort())]);
    expect(r.code).toBe(1);
    const fatal = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ msg: 'storage folder not usable; not starting', dir: join(ro, 'data'), errno: 'EROFS' });
    const problem = String(fatal[0]?.problem);
    expect(problem).toContain('the file system is mounted read-only (EROFS)');
    expect(problem).toContain(FIX);
    expect(r.stdout).not.toContain('ENOENT');
    expect(r.stdout.split('EROFS').length - 1).toBe(2);
  });
});
