#!/usr/bin/env node
/**
 * The remote write stage's own CPU per probe result, without the probe: 60,000 http results
 * (success plus five phases each) through the daemon's collector into a durable queue on disk,
 * flushed (fsynced) every 100 results and read, encoded (protobuf + snappy) and acknowledged
 * every 500, as the daemon does at 100 probes/s (flush every second, send every 5 s). No HTTP:
 * the request itself is one per 5 s. Run `npm run build` first.
 *
 *   node bench/remote-write/queue-cost.mjs
 */
/* global performance -- Node 20 global */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';

const root = resolve(import.meta.dirname, '../..');
const { DurableQueue } = await import(join(root, 'dist/remote/queue.js'));
const { Collector } = await import(join(root, 'dist/remote/collector.js'));
const { encodeWriteRequest } = await import(join(root, 'dist/remote/prompb.js'));
const { silentLogger } = await import(join(root, 'dist/log.js'));
const dir = mkdtempSync(join(tmpdir(), 'rwmicro-'));
const q = await DurableQueue.open({ dir, maxBytes: 256 * 1024 * 1024, remote: 'm', log: silentLogger() });
const c = new Collector('v', () => [q]);
const targets = Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, kind: 'http', country: 'KZ', category: 'x', control: false, source: 's' }));
const N = 60000; // 10 minutes at 100 probes/s
const cpu0 = process.cpuUsage(); const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const t = targets[i % 200];
  c.probe({ target: t.id, kind: 'http', ok: true, reason: null, phases: { dns: 0.001, connect: 0.002, tls: 0.003, ttfb: 0.004, total: 0.01 }, ip: null, at: 1e12 + i * 10 }, t);
  if (i % 100 === 99) await q.flush();            // once a second
  if (i % 500 === 499) { for (;;) { const b = await q.peek(5000); if (!b) break; encodeWriteRequest(b.series); await q.ack(b); } } // every 5 s
}
const u = process.cpuUsage(cpu0);
process.stdout.write(`per probe: ${((u.user + u.system) / 1000 / N).toFixed(4)} CPU ms (user ${(u.user/1000/N).toFixed(4)}, sys ${(u.system/1000/N).toFixed(4)}), wall ${((performance.now()-t0)/N).toFixed(4)} ms` + "\n");
await q.close(); rmSync(dir, { recursive: true, force: true });
