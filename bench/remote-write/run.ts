#!/usr/bin/env node
/**
 * Remote write backlog drain (issue 12 goal: 24 h of a 300-target vantage at 60 s drains into
 * Prometheus in under 2 minutes, at under one core).
 *
 *   npm run bench:remote-write -- [--targets 300] [--hours 24] [--interval 60] [--countries 10]
 *       [--evaluate-every 5] [--batch 5000] [--ooo-window 2d] [--json FILE]
 *
 * 1. Write: the backlog is appended through the daemon's own collector into a durable queue
 *    (dist/remote/*: run `npm run build` first) in a temporary storage dir: every target an
 *    http target (success plus five phases per result, the most samples a target makes), one
 *    result per target per interval, and a detector evaluation (vantage online plus one ratio per
 *    country) every --evaluate-every seconds, all with timestamps spread over the last --hours.
 *    The queue is flushed (written and fsynced) once per simulated interval.
 * 2. Drain: Debian's prometheus (2.42) on 127.0.0.1 with --web.enable-remote-write-receiver and
 *    storage.tsdb.out_of_order_time_window (--ooo-window), then the daemon's sender ships the
 *    queue to it. Measured: wall time until nothing is pending, samples/s, CPU seconds of this
 *    process (the sender side: reading the queue, encoding, snappy, HTTP) over the drain and its
 *    share of one core, and Prometheus' own CPU (from /proc). Then the samples are counted in
 *    Prometheus with a query.
 * Traffic goes only to 127.0.0.1. Prints a table; --json also writes the figures.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import type { Readable } from 'node:stream';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type * as Schema from '../../src/config/schema.js';
import type * as Log from '../../src/log.js';
import type * as CollectorModule from '../../src/remote/collector.js';
import type { RequestOutcome } from '../../src/remote/metrics.js';
import type * as Queue from '../../src/remote/queue.js';
import type * as SenderModule from '../../src/remote/sender.js';
import { importBuilt, ROOT } from '../common/repo.js';

interface Options {
  targets: number;
  hours: number;
  interval: number;
  countries: number;
  evaluateEvery: number;
  batch: number;
  ooo: string;
  json: string | undefined;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string', default: '300' },
      hours: { type: 'string', default: '24' },
      interval: { type: 'string', default: '60' },
      countries: { type: 'string', default: '10' },
      'evaluate-every': { type: 'string', default: '5' },
      batch: { type: 'string', default: '5000' },
      'ooo-window': { type: 'string', default: '2d' },
      json: { type: 'string' },
    },
  });
  const o: Options = {
    targets: Number(values.targets),
    hours: Number(values.hours),
    interval: Number(values.interval),
    countries: Number(values.countries),
    evaluateEvery: Number(values['evaluate-every']),
    batch: Number(values.batch),
    ooo: values['ooo-window'],
    json: values.json,
  };
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && !(v > 0)) throw new Error(`--${k} must be a positive number`);
  return o;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** utime+stime of a process, seconds. */
function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const selfCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main(): Promise<void> {
  const o = options();
  const { DurableQueue } = await importBuilt<typeof Queue>(ROOT, 'remote/queue.js');
  const { Collector } = await importBuilt<typeof CollectorModule>(ROOT, 'remote/collector.js');
  const { Sender } = await importBuilt<typeof SenderModule>(ROOT, 'remote/sender.js');
  const { RemoteWriteList } = await importBuilt<typeof Schema>(ROOT, 'config/schema.js');
  const { silentLogger } = await importBuilt<typeof Log>(ROOT, 'log.js');
  const log = silentLogger();
  const dir = mkdtempSync(join(tmpdir(), 'lookout-bench-rw-'));
  let prom: ChildProcessByStdio<null, null, Readable> | null = null;
  const bound = setTimeout(() => {
    process.stderr.write('bench:remote-write: over its 15 minute bound, giving up\n');
    prom?.kill('SIGKILL');
    process.exit(1);
  }, 15 * 60_000);
  try {
    // 1. Write the backlog.
    const [remote] = RemoteWriteList.parse([{ url: 'http://127.0.0.1:1/api/v1/write', name: 'bench', queue: { batch_samples: o.batch } }]);
    if (remote === undefined) throw new Error('the remote_write list parsed empty');
    const queue = await DurableQueue.open({ dir: join(dir, 'remote-write', 'bench'), maxBytes: remote.queue.max_bytes, remote: 'bench', log });
    const collector = new Collector('bench-vantage', () => [queue]);
    const countries = Array.from({ length: o.countries }, (_, i) => `C${String.fromCharCode(65 + (i % 26))}`);
    // Only the fields the collector reads (an http target's probe options do not matter here).
    const targets = Array.from(
      { length: o.targets },
      (_, i) =>
        ({
          id: `t${i}`,
          kind: 'http',
          url: `http://127.0.0.1:8080/${i}`,
          country: countries[i % countries.length] as string,
          category: 'news',
          control: false,
          file: 'bench',
        }) as Schema.ResolvedTarget,
    );
    const intervalMs = o.interval * 1000;
    const rounds = Math.round((o.hours * 3600) / o.interval);
    const end = Math.floor(Date.now() / intervalMs) * intervalMs - 60_000;
    const start = end - rounds * intervalMs;
    const evalEveryMs = o.evaluateEvery * 1000;
    const writeStart = performance.now();
    const writeCpu0 = selfCpu();
    let nextEval = start;
    for (let r = 0; r < rounds; r++) {
      const roundAt = start + r * intervalMs;
      for (const [i, t] of targets.entries()) {
        const at = roundAt + Math.floor((i * intervalMs) / targets.length);
        const ok = (r + i) % 17 !== 0;
        collector.probe({ target: t.id, kind: 'http', ok, reason: ok ? null : 'http_timeout', phases: { dns: 0.001, connect: 0.002, tls: 0.01, ttfb: 0.05 + (i % 7) / 100, total: 0.07 }, ip: '127.0.0.1', at }, t);
      }
      for (; nextEval < roundAt + intervalMs; nextEval += evalEveryMs) {
        collector.evaluation(nextEval, { paths: [{ path: '', online: true, countries: countries.map((c, k) => ({ country: c, ratio: ((k + r) % 10) / 10 })) }], active: [] });
      }
      await queue.flush();
    }
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const writeCpu = selfCpu() - writeCpu0;
    const backlog = queue.status();

    // 2. Prometheus as the receiver.
    const port = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), `global: { scrape_interval: 1m }\nstorage:\n  tsdb:\n    out_of_order_time_window: ${o.ooo}\n`);
    prom = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom-data')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver', '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promErr = '';
    prom.stderr.on('data', (c: Buffer) => (promErr = (promErr + c.toString()).slice(-5000)));
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/-/ready`)).ok) break;
      } catch {
        // Not listening yet.
      }
      if (i > 150) throw new Error(`prometheus did not start: ${promErr}`);
      await sleep(200);
    }

    // 3. Drain.
    const counts: Record<'sent' | 'failed' | RequestOutcome, number> = { sent: 0, failed: 0, ok: 0, refused: 0, retry: 0 };
    const counters = {
      sent: (n: number) => (counts.sent += n),
      failed: (n: number) => (counts.failed += n),
      dropped: () => undefined,
      request: (k: RequestOutcome) => counts[k]++,
    };
    const sender = new Sender({ remote: { ...remote, url: `${url}/api/v1/write` }, queue, counters, log });
    const promPid = prom.pid;
    if (promPid === undefined) throw new Error(`prometheus did not start: ${promErr}`);
    const promCpu0 = procCpuSeconds(promPid);
    const drainCpu0 = selfCpu();
    const drainStart = performance.now();
    sender.start();
    while (queue.status().pendingSamples > 0) await sleep(100);
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const drainCpu = selfCpu() - drainCpu0;
    const promCpu = procCpuSeconds(promPid) - promCpu0;
    await sender.stop(1000);
    await queue.close();

    // 4. Count what arrived.
    const q = `sum(count_over_time(lookout_probe_success[${o.hours + 1}h]))`;
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}&time=${(end + 120_000) / 1000}`);
    const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
    const inProm = Number(body.data?.result?.[0]?.value?.[1] ?? NaN);

    const figures = {
      machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version },
      options: o,
      backlog: { samples: backlog.pendingSamples, bytes: backlog.pendingBytes, hours: o.hours, writeSeconds, writeCpuSeconds: writeCpu },
      drain: {
        seconds: drainSeconds,
        samplesPerSecond: backlog.pendingSamples / drainSeconds,
        senderCpuSeconds: drainCpu,
        senderCores: drainCpu / drainSeconds,
        prometheusCpuSeconds: promCpu,
        prometheusCores: promCpu / drainSeconds,
        requests: counts.ok,
        refused: counts.refused,
        retries: counts.retry,
        samplesSent: counts.sent,
        samplesFailed: counts.failed,
      },
      check: { probeSuccessSamplesInPrometheus: inProm, expected: rounds * o.targets },
    };
    const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
    const lines = [
      'Remote write backlog drain into Prometheus 2.42 (loopback)',
      `machine: nproc ${figures.machine.nproc}, ${figures.machine.cpu}, node ${figures.machine.node}`,
      `backlog: ${o.hours} h of ${o.targets} http targets at ${o.interval} s + evaluations every ${o.evaluateEvery} s (${o.countries} countries): ${backlog.pendingSamples} samples, ${f(backlog.pendingBytes / 1048576)} MiB on disk; written in ${f(writeSeconds)} s (${f(writeCpu)} CPU s)`,
      `drain: ${f(drainSeconds)} s (goal < 120 s), ${f(figures.drain.samplesPerSecond, 0)} samples/s, batch ${o.batch}, ${counts.ok} requests, ${counts.refused} refused, ${counts.retry} retries`,
      `CPU during the drain: sender ${f(drainCpu)} s = ${f(figures.drain.senderCores, 2)} cores (goal < 1); prometheus ${f(promCpu)} s = ${f(figures.drain.prometheusCores, 2)} cores`,
      `check: lookout_probe_success samples in Prometheus ${inProm} of ${rounds * o.targets} expected`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    if (o.json) writeFileSync(o.json, JSON.stringify(figures, null, 2));
    if (inProm !== rounds * o.targets || counts.failed > 0) process.exitCode = 1;
  } finally {
    clearTimeout(bound);
    if (prom && prom.exitCode === null) {
      const running = prom;
      const exited = new Promise((r) => running.once('exit', r));
      running.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:remote-write: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
