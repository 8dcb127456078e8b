/**
 * The remote write stage against real receivers on loopback: Debian's Prometheus 2.42 with its
 * remote write receiver, and a counting receiver that decodes requests and answers as told.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteWriteList, type ResolvedTarget } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { RemoteWriteStage } from '../../src/remote/stage.js';
import { sample } from '../e2e/harness.js';
import { startCountingReceiver, startPromReceiver, type CountingReceiver, type PromReceiver } from '../fixtures/remote-write-receivers.js';
import { freePort, waitFor } from '../fixtures/stack.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function capturedLogger(): { log: Logger; entries: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    log: createLogger('info', sink),
    entries: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function target(id: string): ResolvedTarget {
  return { id, kind: 'tcp', host: '127.0.0.1', port: 9, country: 'KZ', category: 'news', control: false, source: 'test.yaml' };
}

function result(t: ResolvedTarget, at: number, ok: boolean): ProbeResult {
  return { target: t.id, kind: 'tcp', ok, reason: ok ? null : 'tcp_timeout', phases: ok ? { connect: 0.0012, total: 0.0015 } : { total: 5 }, ip: '127.0.0.1', at };
}

async function startStage(url: string, queue: Record<string, unknown> = {}, log?: Logger): Promise<{ stage: RemoteWriteStage; metrics: () => Promise<string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-rw-'));
  const metrics = createMetrics({ vantage: 'kz-1', version: '0', nodeVersion: 'v0', targets: () => [], inFlight: () => 0 });
  const stage = await RemoteWriteStage.start({
    remotes: RemoteWriteList.parse([{ url, name: 'center', queue: { send_interval: '200ms', ...queue } }]),
    storageDir: dir,
    vantage: 'kz-1',
    registry: metrics.registry,
    log: log ?? capturedLogger().log,
    backoff: { minMs: 50, maxMs: 400 },
  });
  cleanups.push(async () => {
    await stage.stop(500);
    rmSync(dir, { recursive: true, force: true });
  });
  return { stage, metrics: () => metrics.registry.metrics() };
}

const metric = (text: string, name: string, labels: Record<string, string> = { remote: 'center' }): number => sample(text, name, labels) ?? NaN;

describe('remote write into Prometheus 2.42 (real receiver on loopback)', () => {
  it('delivers probe results and evaluations with the timestamps at which they were measured', async () => {
    const prom = await startPromReceiver();
    cleanups.push(() => prom.stop());
    const { stage, metrics } = await startStage(prom.writeUrl);
    const t = target('kz-news');
    const base = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
    const times = Array.from({ length: 10 }, (_, i) => base + i * 60_000 + 123);
    times.forEach((at, i) => stage.collector.probe(result(t, at, i % 3 !== 0), t));
    stage.evaluation(base + 9 * 60_000, () => ({ paths: [{ path: '', online: true, countries: [{ country: 'KZ', ratio: 0.75 }] }], active: [] }));
    const got = await waitFor(
      'samples in Prometheus',
      async () => {
        const r = await prom.rawSamples('lookout_probe_success{target="kz-news"}', '1h');
        return r[0]?.values.length === times.length ? r : null;
      },
      20_000,
    );
    expect(got[0]?.metric).toEqual({ __name__: 'lookout_probe_success', target: 'kz-news', country: 'KZ', category: 'news', kind: 'tcp', vantage: 'kz-1' });
    expect(got[0]?.values).toEqual(times.map((at, i) => [at, i % 3 !== 0 ? 1 : 0]));
    const phases = await prom.rawSamples('lookout_probe_duration_seconds{target="kz-news",phase="connect"}', '1h');
    expect(phases[0]?.values).toEqual(times.filter((_, i) => i % 3 !== 0).map((at) => [at, 0.0012]));
    const ratio = await waitFor('the ratio', async () => (await prom.rawSamples('lookout_country_reachability_ratio', '1h'))[0] ?? null);
    expect(ratio).toEqual({ metric: { __name__: 'lookout_country_reachability_ratio', country: 'KZ', vantage: 'kz-1' }, values: [[base + 9 * 60_000, 0.75]] });
    const text = await metrics();
    await waitFor('pending 0', async () => (metric(await metrics(), 'lookout_remote_write_pending_samples') === 0 ? true : null));
    expect(metric(text, 'lookout_remote_write_samples_failed_total')).toBe(0);
    // 10 success samples, connect+total for the 6 successes, total for the 4 failures, online and ratio.
    expect(metric(await metrics(), 'lookout_remote_write_samples_sent_total')).toBe(10 + 6 * 2 + 4 + 2);
  });

  it('keeps the backlog while the receiver is down and delivers all of it, in order, once it is up', async () => {
    const port = await freePort();
    const { log, entries } = capturedLogger();
    const { stage, metrics } = await startStage(`http://127.0.0.1:${port}/api/v1/write`, { batch_samples: 7 }, log);
    const targets = ['a', 'b', 'c'].map(target);
    const base = Math.floor(Date.now() / 1000) * 1000 - 30 * 60_000;
    for (let i = 0; i < 30; i++) {
      for (const t of targets) stage.collector.probe(result(t, base + i * 60_000, true), t);
      // Several flushes: the backlog spans many records.
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1100));
    }
    await waitFor('retries', async () => (metric(await metrics(), 'lookout_remote_write_requests_total', { remote: 'center', outcome: 'retry' }) >= 2 ? true : null));
    expect(metric(await metrics(), 'lookout_remote_write_pending_samples')).toBe(30 * 3 * 3);
    expect(metric(await metrics(), 'lookout_remote_write_oldest_pending_age_seconds')).toBeGreaterThan(29 * 60);
    expect(entries().some((e) => e.msg === 'remote write failing, retrying' && e.remote === 'center')).toBe(true);

    const prom: PromReceiver = await startPromReceiver({ port });
    cleanups.push(() => prom.stop());
    await waitFor('backlog drained', async () => (metric(await metrics(), 'lookout_remote_write_pending_samples') === 0 ? true : null), 30_000);
    for (const t of targets) {
      const got = await prom.rawSamples(`lookout_probe_success{target="${t.id}"}`, '2h');
      expect(got[0]?.values).toEqual(Array.from({ length: 30 }, (_, i) => [base + i * 60_000, 1]));
    }
    // Prometheus without an out-of-order window refuses a sample older than its series' last one:
    // none was refused, so each series arrived in time order.
    const text = await metrics();
    expect(metric(text, 'lookout_remote_write_samples_failed_total')).toBe(0);
    expect(metric(text, 'lookout_remote_write_samples_sent_total')).toBe(270);
    expect(metric(text, 'lookout_remote_write_oldest_pending_age_seconds')).toBe(0);
    expect(entries().some((e) => e.msg === 'remote write recovered' && e.remote === 'center')).toBe(true);
  }, 60_000);
});

describe('remote write against a counting receiver', () => {
  async function receiver(): Promise<CountingReceiver> {
    const r = await startCountingReceiver();
    cleanups.push(() => r.close());
    return r;
  }

  it('logs and skips a batch refused with 400, counts it as failed, and goes on with the next', async () => {
    const rx = await receiver();
    rx.answer(400);
    const { log, entries } = capturedLogger();
    const { stage, metrics } = await startStage(rx.writeUrl, { batch_samples: 4 }, log);
    const t = target('x');
    const base = Date.now() - 60_000;
    for (let i = 0; i < 4; i++) stage.collector.probe(result(t, base + i, false), t); // 2 samples each: 8
    await waitFor('refusals', async () => (metric(await metrics(), 'lookout_remote_write_samples_failed_total') === 8 ? true : null));
    rx.answer(204);
    stage.collector.probe(result(t, base + 100, false), t);
    await waitFor('sent', async () => (metric(await metrics(), 'lookout_remote_write_samples_sent_total') === 2 ? true : null));
    const text = await metrics();
    expect(metric(text, 'lookout_remote_write_requests_total', { remote: 'center', outcome: 'refused' })).toBe(2);
    expect(metric(text, 'lookout_remote_write_pending_samples')).toBe(0);
    // Each refused batch was sent once: never retried.
    expect(rx.requests.filter((r) => r.status === 400).length).toBe(2);
    const refused = entries().filter((e) => e.msg === 'remote write refused a batch');
    expect(refused.map((e) => [e.remote, e.status, e.samples])).toEqual([
      ['center', 400, 4],
      ['center', 400, 4],
    ]);
    expect(String(refused[0]?.body)).toContain('refused by the test receiver');
    // The protocol's headers.
    expect(rx.requests[0]?.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    });
  });

  it('skips a batch that a 500 refuses for its samples (Prometheus 2.42: "too old sample"), never retrying it', async () => {
    const rx = await receiver();
    rx.answer(500, 0, 'too old sample\n');
    const { stage, metrics } = await startStage(rx.writeUrl, { batch_samples: 4 });
    const t = target('old');
    const base = Date.now() - 60_000;
    for (let i = 0; i < 2; i++) stage.collector.probe(result(t, base + i, false), t); // 4 samples: one batch
    await waitFor('refusal', async () => (metric(await metrics(), 'lookout_remote_write_samples_failed_total') === 4 ? true : null));
    rx.answer(204);
    stage.collector.probe(result(t, base + 100, false), t);
    await waitFor('sent', async () => (metric(await metrics(), 'lookout_remote_write_samples_sent_total') === 2 ? true : null));
    expect(rx.requests.filter((r) => r.status === 500).length).toBe(1);
    expect(metric(await metrics(), 'lookout_remote_write_requests_total', { remote: 'center', outcome: 'retry' })).toBe(0);
  });

  it('retries 5xx and 429 with the same batch, and delivers everything once, in order', async () => {
    const rx = await receiver();
    rx.answer(503);
    const { stage, metrics } = await startStage(rx.writeUrl, { batch_samples: 5 });
    const t = target('y');
    const base = Date.now() - 60_000;
    const expected: number[] = [];
    for (let i = 0; i < 20; i++) {
      stage.collector.probe({ ...result(t, base + i, true), phases: { total: 0.5 } }, t);
      expected.push(base + i);
    }
    await waitFor('retries', async () => (metric(await metrics(), 'lookout_remote_write_requests_total', { remote: 'center', outcome: 'retry' }) >= 3 ? true : null));
    rx.answer(429);
    await new Promise((r) => setTimeout(r, 300));
    rx.answer(204);
    await waitFor('drained', async () => (metric(await metrics(), 'lookout_remote_write_samples_sent_total') === 40 ? true : null), 15_000);
    const success = rx
      .accepted()
      .filter((k) => k.startsWith('__name__=lookout_probe_success'))
      .map((k) => Number(/@(\d+)=/.exec(k)?.[1]));
    expect(success).toEqual(expected);
    expect(new Set(rx.accepted()).size).toBe(rx.accepted().length);
  });

  it('sends the bearer token read from its file, and the configured headers', async () => {
    const rx = await receiver();
    const dir = mkdtempSync(join(tmpdir(), 'lookout-rw-token-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'token'), 'sekrit-token\n');
    const storage = mkdtempSync(join(tmpdir(), 'lookout-rw-'));
    const m = createMetrics({ vantage: 'kz-1', version: '0', nodeVersion: 'v0', targets: () => [], inFlight: () => 0 });
    const { log, entries } = capturedLogger();
    const stage = await RemoteWriteStage.start({
      remotes: RemoteWriteList.parse([{ url: rx.writeUrl, headers: { 'X-Scope-OrgID': 'kz' }, bearer_token_file: join(dir, 'token'), queue: { send_interval: '100ms' } }]),
      storageDir: storage,
      vantage: 'kz-1',
      registry: m.registry,
      log,
    });
    cleanups.push(async () => {
      await stage.stop(500);
      rmSync(storage, { recursive: true, force: true });
    });
    const t = target('z');
    stage.collector.probe(result(t, Date.now(), true), t);
    await waitFor('a request', () => (rx.requests.length > 0 ? true : null));
    expect(rx.requests[0]?.headers).toMatchObject({ authorization: 'Bearer sekrit-token', 'x-scope-orgid': 'kz' });
    // The default name, and no secret in any log line.
    expect(sample(await m.registry.metrics(), 'lookout_remote_write_samples_sent_total', { remote: 'rw0' })).toBeGreaterThan(0);
    expect(JSON.stringify(entries())).not.toContain('sekrit');
  });

  it('on reload keeps the queue of a remote whose name is unchanged (backlog and all), even with a new url', async () => {
    const down = await freePort();
    const rx = await receiver();
    const storage = mkdtempSync(join(tmpdir(), 'lookout-rw-'));
    const m = createMetrics({ vantage: 'kz-1', version: '0', nodeVersion: 'v0', targets: () => [], inFlight: () => 0 });
    const { log, entries } = capturedLogger();
    const stage = await RemoteWriteStage.start({
      remotes: RemoteWriteList.parse([{ url: `http://127.0.0.1:${down}/api/v1/write`, name: 'center', queue: { send_interval: '100ms' } }]),
      storageDir: storage,
      vantage: 'kz-1',
      registry: m.registry,
      log,
      backoff: { minMs: 50, maxMs: 200 },
    });
    cleanups.push(async () => {
      await stage.stop(500);
      rmSync(storage, { recursive: true, force: true });
    });
    const t = target('r');
    const base = Date.now() - 60_000;
    for (let i = 0; i < 10; i++) stage.collector.probe({ ...result(t, base + i, true), phases: { total: 0.1 } }, t);
    await waitFor('a backlog', async () => (sample(await m.registry.metrics(), 'lookout_remote_write_pending_samples', { remote: 'center' }) === 20 ? true : null));
    // Same name, new url: the backlog goes to the new url. A second remote is added.
    await stage.reload(RemoteWriteList.parse([{ url: rx.writeUrl, name: 'center', queue: { send_interval: '100ms' } }, { url: rx.writeUrl, name: 'second' }]));
    await waitFor('the backlog at the new url', () => (rx.accepted().length >= 20 ? true : null));
    expect(rx.accepted().filter((k) => k.includes('__name__=lookout_probe_success')).map((k) => Number(/@(\d+)=/.exec(k)?.[1]))).toEqual(
      Array.from({ length: 10 }, (_, i) => base + i),
    );
    expect(entries().some((e) => e.msg === 'remote write settings changed; queue kept' && e.remote === 'center')).toBe(true);
    // Removing a remote stops it and forgets its series.
    await stage.reload(RemoteWriteList.parse([{ url: rx.writeUrl, name: 'second' }]));
    const text = await m.registry.metrics();
    expect(sample(text, 'lookout_remote_write_pending_samples', { remote: 'center' })).toBeUndefined();
    expect(sample(text, 'lookout_remote_write_pending_samples', { remote: 'second' })).toBe(0);
  }, 30_000);
});
