/**
 * Child processes of the benchmark: spawned with their output captured (last lines kept for
 * error messages), all tracked so that every one of them can be killed at the end, also on
 * error, on a signal or when the run exceeds its time bound.
 */
import { clearTimeout, setTimeout } from 'node:timers';
import process from 'node:process';
import { spawn, type ChildProcessByStdio, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** A spawned child: its process (stdout and stderr piped), how it exited, its last output lines. */
export interface Child {
  name: string;
  proc: ChildProcessByStdio<null, Readable, Readable>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  tail: () => string;
}

const live = new Set<Child>();

/** Spawns `cmd args` and tracks it; returns { proc, tail(), exited }. */
export function start(name: string, cmd: string, args: readonly string[], options: Omit<SpawnOptions, 'stdio'> = {}): Child {
  const proc = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer | string): void => {
    for (const line of String(chunk).split('\n')) if (line !== '') lines.push(line);
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const child: Child = { name, proc, exited, tail: () => lines.join('\n') };
  live.add(child);
  void exited.then(() => live.delete(child));
  proc.once('error', (err) => lines.push(`spawn error: ${err.message}`));
  return child;
}

/** Resolves when the child printed a line matching `re`; rejects when it exits or after `ms`. */
export function waitForLine(child: Child, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer | string): void => {
      buffered += String(chunk);
      if (re.test(buffered)) done(resolve);
    };
    const timer = setTimeout(() => done(() => reject(new Error(`${child.name}: not ready after ${ms} ms\n${child.tail()}`))), ms);
    const onExit = (): void => done(() => reject(new Error(`${child.name} exited before it was ready\n${child.tail()}`)));
    function done(settle: () => void): void {
      clearTimeout(timer);
      child.proc.stdout.off('data', onData);
      child.proc.off('exit', onExit);
      settle();
    }
    child.proc.stdout.on('data', onData);
    child.proc.once('exit', onExit);
  });
}

/** The process id of a child (which it has unless it failed to spawn: then this throws). */
export function pidOf(child: Child): number {
  if (child.proc.pid === undefined) throw new Error(`${child.name} has no process id: it failed to start\n${child.tail()}`);
  return child.proc.pid;
}

/** SIGTERM, then SIGKILL after `graceMs` if it is still running. */
export async function stop(child: Child, graceMs = 3000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** SIGKILLs every child still running (synchronous: usable from an 'exit' handler). */
export function killAll(): void {
  for (const child of live) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  }
}

/** Where the daemon's CPU profile goes: `<dir>/<name>.cpuprofile` (no profile without a dir). */
export interface CpuProfile {
  cpuProfDir?: string | undefined;
  profName?: string | undefined;
}

/**
 * Starts the built daemon of the checkout at `root` (dist/main.js run --config, LOG_LEVEL=warn).
 * With `cpuProfDir` it runs under node --cpu-prof and writes `<profName>.cpuprofile` there when
 * it exits (it must be stopped with SIGTERM, not killed).
 */
export function startLookoutProcess(root: string, configPath: string, { cpuProfDir, profName = 'lookout' }: CpuProfile = {}): Child {
  const prof = cpuProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${profName}.cpuprofile`] : [];
  return start('lookout', process.execPath, [...prof, join(root, 'dist/main.js'), 'run', '--config', configPath], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
}
