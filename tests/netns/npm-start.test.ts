import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir } from '../e2e/harness.js';

// `npm start`, the README's first command, stopped the way a supervisor or a terminal stops it:
// SIGTERM to npm (the top process: systemd, a process manager), and SIGINT to the whole process
// group (a terminal's Ctrl-C). Either way the daemon must stop with it, cleanly, and npm must
// exit 0. The config probes one loopback port only. It runs in the namespace phase because that
// phase runs its files one at a time: `npm start` rebuilds dist/, which the host phase's
// parallel end-to-end tests are running.

const REPO = resolve(import.meta.dirname, '../..');

/** The parent pid of every process, from /proc/PID/stat (field 4, after the command's ")"). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch {
      // The process ended while the table was read.
    }
  }
  return out;
}

/** The pid of the `dist/main.js run` process under `root`, or null. */
function daemonUnder(root: number): number | null {
  const ppids = parents();
  for (const [pid] of ppids) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== root) p = ppids.get(p);
    if (p !== root || pid === root) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (/dist\/main\.js run/.test(cmd) && !cmd.startsWith('sh ')) return pid;
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let npm: ChildProcess | null = null;
let daemonPid: number | null = null;

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
});

afterEach(() => {
  // A failed run must not leave its processes behind.
  for (const pid of [npm?.pid === undefined ? null : -npm.pid, daemonPid]) {
    try {
      if (pid !== null) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
  npm = null;
  daemonPid = null;
});

interface Started {
  npm: ChildProcess;
  daemon: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `npm start` in its own process group with a loopback-only config, until the daemon serves. */
async function npmStart(): Promise<Started> {
  const port = await freePort();
  const target = await freePort();
  const dir = tempDir({
    'lookout.yaml': [
      'vantage: { id: npm-start }',
      `server: { listen: "127.0.0.1:${port}" }`,
      'storage: { dir: ./data }',
      'schedule: { interval: 5s, timeout: 1s, confirm_delay: 1s }',
      `targets: [{ id: ctl-local, kind: tcp, host: 127.0.0.1, port: ${target}, country: ZZ, control: true }]`,
      '',
    ].join('\n'),
  });
  const proc = spawn('npm', ['start'], {
    cwd: REPO,
    detached: true,
    env: { ...process.env, LOOKOUT_CONFIG: join(dir, 'lookout.yaml'), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  npm = proc;
  let text = '';
  proc.stdout.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  const end = Date.now() + 170_000;
  while (!text.includes('"msg":"lookout started"')) {
    if (proc.exitCode !== null) throw new Error(`npm start exited ${proc.exitCode}:\n${text}`);
    if (Date.now() > end) throw new Error(`npm start did not start the daemon:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const daemon = daemonUnder(proc.pid as number);
  if (daemon === null) throw new Error(`no daemon process under npm ${proc.pid}`);
  daemonPid = daemon;
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  return { npm: proc, daemon, output: () => text, exited };
}

/** Resolves once `pid` is gone, or rejects after `ms`. */
async function gone(pid: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) throw new Error(`process ${pid} still running ${ms} ms later`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start', () => {
  it('SIGTERM to npm stops the daemon too, and npm exits 0', async () => {
    const s = await npmStart();
    process.kill(s.npm.pid as number, 'SIGTERM');
    expect(await s.exited).toBe(0);
    await gone(s.daemon, 5000);
    expect(s.output()).toContain('"msg":"lookout stopped"');
  }, 180_000);

  it("a terminal's Ctrl-C (SIGINT to the process group) stops both cleanly, exit 0", async () => {
    const s = await npmStart();
    process.kill(-(s.npm.pid as number), 'SIGINT');
    expect(await s.exited).toBe(0);
    await gone(s.daemon, 5000);
    expect(s.output()).toContain('"msg":"lookout stopped"');
    expect(s.output()).not.toContain('second signal');
  }, 180_000);
});
