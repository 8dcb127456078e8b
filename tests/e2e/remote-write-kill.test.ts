/**
 * The built daemon's remote write queue survives a SIGKILL in the middle of a backlog: after
 * the restart every sample that was on disk at the kill arrives, and nothing acknowledged is
 * sent again (the only repeat allowed is the one batch in flight at the kill, whose answer the
 * daemon may not have recorded). Receiver: a loopback counting receiver that decodes requests.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { DurableQueue } from '../../src/remote/queue.js';
import { sampleKey, startCountingReceiver, type CountingReceiver } from '../fixtures/remote-write-receivers.js';
import { listen, type Running } from '../fixtures/servers.js';
import { waitFor } from '../fixtures/stack.js';
import { freePort, sample, startDaemon, tempDir, type Daemon } from './harness.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every sample in a copy of the queue directory, acknowledged or not, as sampleKey()s. */
async function samplesOnDisk(queueDir: string): Promise<{ keys: string[]; acked: number }> {
  const copy = mkdtempSync(join(tmpdir(), 'lookout-rw-copy-'));
  try {
    cpSync(queueDir, copy, { recursive: true });
    let acked = 0;
    try {
      acked = Number(readFileSync(join(copy, 'ack'), 'utf8'));
    } catch {
      // Nothing acknowledged yet.
    }
    rmSync(join(copy, 'ack'), { force: true });
    const q = await DurableQueue.open({ dir: copy, maxBytes: 1 << 30, remote: 'copy', log: silentLogger() });
    const keys: string[] = [];
    for (;;) {
      const b = await q.peek(10_000);
      if (b === null) break;
      for (const ts of b.series) for (const s of ts.samples) keys.push(sampleKey(ts.labels, s.timestamp, s.value));
      await q.ack(b);
    }
    await q.close();
    return { keys, acked };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

describe('remote write across a SIGKILL of the daemon', () => {
  it('resumes from the acknowledged position: nothing on disk is lost, nothing acknowledged is sent again', async () => {
    const tcp: Running = await listen(createNetServer((s) => s.destroy()));
    cleanups.push(() => tcp.close());
    const rx: CountingReceiver = await startCountingReceiver();
    cleanups.push(() => rx.close());
    rx.answer(503);
    const apiPort = await freePort();
    const dir = tempDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const targets = Array.from({ length: 30 }, (_, i) => `  - { id: t${String(i).padStart(2, '0')}, kind: tcp, country: KZ, host: 127.0.0.1, port: ${tcp.port} }`).join('\n');
    writeFileSync(
      join(dir, 'lookout.yaml'),
      `
vantage: { id: kz-kill }
server: { listen: "127.0.0.1:${apiPort}" }
storage: { dir: ./data }
schedule: { interval: 1s, timeout: 500ms, confirm_delay: 200ms }
detection: { evaluate_every: 1s }
remote_write:
  - url: ${rx.writeUrl}
    name: center
    queue: { batch_samples: 10, send_interval: 200ms }
targets:
${targets}
`,
    );
    let daemon: Daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
    cleanups.push(() => {
      daemon.proc.kill('SIGKILL');
    });
    // A backlog builds while the receiver answers 503.
    await waitFor('a backlog', async () => ((sample(await daemon.metrics(), 'lookout_remote_write_pending_samples', { remote: 'center' }) ?? 0) >= 300 ? true : null), 20_000);
    // Slow acceptance, so that the kill falls in the middle of the drain.
    rx.answer(204, 100);
    await waitFor('some batches accepted', () => (rx.requests.filter((r) => r.status === 204).length >= 5 ? true : null), 20_000);
    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    const onDisk = await samplesOnDisk(join(dir, 'data', 'remote-write', 'center'));
    const beforeRestart = rx.requests.length;
    const lastInFlight = rx.requests.at(-1);
    expect(onDisk.keys.length).toBeGreaterThan(50);
    // The kill did fall in the middle: samples were left unacknowledged.
    const acceptedAtKill = new Set(rx.accepted());
    expect(onDisk.keys.filter((k) => !acceptedAtKill.has(k)).length).toBeGreaterThan(10);

    rx.answer(204);
    daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
    await waitFor(
      'every sample that was on disk at the kill',
      () => {
        const got = new Set(rx.accepted());
        return onDisk.keys.every((k) => got.has(k)) ? true : null;
      },
      30_000,
    );
    daemon.proc.kill('SIGTERM');
    await daemon.exited;

    // No duplicates but for the batch in flight at the kill.
    const seen = new Set<string>();
    const repeated: string[] = [];
    for (const k of rx.accepted()) {
      if (seen.has(k)) repeated.push(k);
      seen.add(k);
    }
    const inFlight = new Set((lastInFlight?.series ?? []).flatMap((ts) => ts.samples.map((s) => sampleKey(ts.labels, s.timestamp, s.value))));
    expect(repeated.filter((k) => !inFlight.has(k))).toEqual([]);
    expect(repeated.length).toBeLessThanOrEqual(10);
    // Each series arrived in time order (first arrivals).
    const lastTs = new Map<string, number>();
    const order: string[] = [];
    const firsts = new Set<string>();
    for (const r of rx.requests.slice(0, beforeRestart).concat(rx.requests.slice(beforeRestart))) {
      if (r.status !== 204) continue;
      for (const ts of r.series) {
        const id = sampleKey(ts.labels, 0, 0);
        for (const s of ts.samples) {
          const k = sampleKey(ts.labels, s.timestamp, s.value);
          if (firsts.has(k)) continue;
          firsts.add(k);
          if ((lastTs.get(id) ?? -Infinity) >= s.timestamp) order.push(`${id} ${s.timestamp}`);
          lastTs.set(id, s.timestamp);
        }
      }
    }
    expect(order).toEqual([]);
  }, 90_000);
});
