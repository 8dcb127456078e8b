/**
 * Child processes of the benchmark: spawned with their output captured (last lines kept for
 * error messages), all tracked so that every one of them can be killed at the end, also on
 * error, on a signal or when the run exceeds its time bound.
 */
import { clearTimeout, setTimeout } from 'node:timers';
import process from 'node:process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const live = new Set();

/** Spawns `cmd args` and tracks it; returns { proc, tail(), exited }. */
export function start(name, cmd, args, options = {}) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const lines = [];
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) if (line !== '') lines.push(line);
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const child = { name, proc, exited, tail: () => lines.join('\n') };
  live.add(child);
  void exited.then(() => live.delete(child));
  proc.once('error', (err) => lines.push(`spawn error: ${err.message}`));
  return child;
}

/** Resolves when the child printed a line matching `re`; rejects when it exits or after `ms`. */
export function waitForLine(child, re, ms) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk) => {
      buffered += String(chunk);
      if (re.test(buffered)) done(resolve);
    };
    const timer = setTimeout(() => done(() => reject(new Error(`${child.name}: not ready after ${ms} ms\n${child.tail()}`))), ms);
    const onExit = () => done(() => reject(new Error(`${child.name} exited before it was ready\n${child.tail()}`)));
    function done(settle) {
      clearTimeout(timer);
      child.proc.stdout.off('data', onData);
      child.proc.off('exit', onExit);
      settle();
    }
    child.proc.stdout.on('data', onData);
    child.proc.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after `graceMs` if it is still running. */
export async function stop(child, graceMs = 3000) {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** SIGKILLs every child still running (synchronous: usable from an 'exit' handler). */
export function killAll() {
  for (const child of live) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  }
}

/**
 * Starts the built daemon of the checkout at `root` (dist/main.js run --config, LOG_LEVEL=warn).
 * With `cpuProfDir` it runs under node --cpu-prof and writes `<profName>.cpuprofile` there when
 * it exits (it must be stopped with SIGTERM, not killed).
 */
export function startLookoutProcess(root, configPath, { cpuProfDir, profName = 'lookout' } = {}) {
  const prof = cpuProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${profName}.cpuprofile`] : [];
  return start('lookout', process.execPath, [...prof, join(root, 'dist/main.js'), 'run', '--config', configPath], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
}
