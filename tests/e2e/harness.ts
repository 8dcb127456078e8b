/**
 * Runs the built daemon (dist/main.js) as a real child process for end-to-end tests and
 * collects its JSON log lines. Only ever configured with loopback targets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';

export const MAIN = resolve(import.meta.dirname, '../../dist/main.js');

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface Daemon {
  proc: ChildProcess;
  port: number;
  logs: LogLine[];
  stderr: string[];
  /** Resolves with the exit code (or null when killed by a signal). */
  exited: Promise<number | null>;
  metrics(): Promise<string>;
  waitForLog(predicate: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** A line Node prints for a process warning: "(node:PID) [DEP0137] DeprecationWarning: ...". */
const NODE_WARNING = /^\(node:\d+\) (?:\[\w+\] )?\w*Warning: /;

/**
 * Re-emits each process warning the child prints on `stderr` as a warning of this process, so
 * that it fails the test that ran the child (tests/setup/fail-on-warning.ts).
 */
export function watchWarnings(stderr: Readable | null, child: string): void {
  let partial = '';
  stderr?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (NODE_WARNING.test(line)) process.emitWarning(`${child}: ${line}`, 'ChildProcessWarning');
  });
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** A fresh temp directory holding the given files. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-e2e-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuilt();
  return new Promise((res) => {
    const p = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    watchWarnings(p.stderr, `lookout ${args[0] ?? ''}`);
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
}

/**
 * Starts `node dist/main.js run --config configPath` and resolves once it logged that it
 * started. `prefix` runs it under another command (e.g. unshare), which must exec it.
 */
export async function startDaemon(configPath: string, port: number, env: Record<string, string> = {}, prefix: string[] = []): Promise<Daemon> {
  assertBuilt();
  const argv = [...prefix, process.execPath, MAIN, 'run', '--config', configPath];
  const proc = spawn(argv[0] as string, argv.slice(1), {
    env: { ...process.env, LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters: { predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        stderr.push(`non-JSON stdout: ${line}`);
        continue;
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.predicate(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  watchWarnings(proc.stderr, 'the daemon');
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));

  const waitForLog = (predicate: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const found = logs.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        rej(new Error(`log line not seen within ${timeoutMs} ms; last lines:\n${logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}\n${stderr.join('')}`));
      }, timeoutMs);
      waiters.push({
        predicate,
        resolve: (l) => {
          clearTimeout(timer);
          res(l);
        },
      });
    });
  };

  await Promise.race([
    waitForLog((l) => l.msg === 'lookout started', 15_000),
    exited.then((code) => {
      throw new Error(`daemon exited with ${code} before starting:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\n${stderr.join('')}`);
    }),
  ]);

  return {
    proc,
    port,
    logs,
    stderr,
    exited,
    waitForLog,
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    },
  };
}

/** Value of the first sample whose name and labels all match, or undefined. */
export function sample(metricsText: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return undefined;
}

/** Polls `probe` every `everyMs` until it answers other than undefined; rejects naming `what` after timeoutMs. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
