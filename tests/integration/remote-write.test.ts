/**
 * The remote write stage against real receivers on loopback: Debian's Prometheus 2.42 with its
 * remote write receiver, and a counting receiver that decodes requests and answers as told.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteWriteList, type ResolvedTarget } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/lookout-metrics.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { RemoteWriteStage } from '../../src/remote/stage.js';
import { sample } from '../e2e/harness.js';
import { startCountingReceiver, startPromReceiver, type CountingReceiver, type PromReceiver } from '../fixtures/remote-write-receivers.js';
import { freePort, waitFor } from '../fixtures/stack.js';
import { makeTestCerts, type TestCerts } from '../fixtures/tls-certs.js';

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
  return { id, kind: 'tcp', host: '127.0.0.1', port: 9, country: 'KZ', category: 'news', control: false, file: 'test.yaml' };
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

describe('remote write over TLS, with credentials and with Retry-After', () => {
  /** A stage with one remote configured as given (queue.send_interval 100 ms unless set). */
  async function startRemote(remote: Record<string, unknown>, opts: { log?: Logger; backoff?: { minMs: number; maxMs: number } } = {}) {
    const storage = mkdtempSync(join(tmpdir(), 'lookout-rw-'));
    const m = createMetrics({ vantage: 'kz-1', version: '0', nodeVersion: 'v0', targets: () => [], inFlight: () => 0 });
    const stage = await RemoteWriteStage.start({
      remotes: RemoteWriteList.parse([{ name: 'center', queue: { send_interval: '100ms' }, ...remote }]),
      storageDir: storage,
      vantage: 'kz-1',
      registry: m.registry,
      log: opts.log ?? capturedLogger().log,
      backoff: opts.backoff ?? { minMs: 50, maxMs: 400 },
    });
    cleanups.push(async () => {
      await stage.stop(500);
      rmSync(storage, { recursive: true, force: true });
    });
    return { stage, metrics: () => m.registry.metrics() };
  }

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'lookout-rw-secrets-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  function testCerts(): TestCerts {
    const certs = makeTestCerts();
    cleanups.push(() => certs.cleanup());
    return certs;
  }

  async function receiver(opts: Parameters<typeof startCountingReceiver>[0] = {}): Promise<CountingReceiver> {
    const r = await startCountingReceiver(opts);
    cleanups.push(() => r.close());
    return r;
  }

  it('refuses a receiver whose certificate it cannot verify (batch kept), logs an unreadable ca_file, and delivers once tls.ca_file names the CA', async () => {
    const certs = testCerts();
    const dir = tempDir();
    writeFileSync(join(dir, 'ca.pem'), certs.ca);
    const rx = await receiver({ tls: certs.leaf });
    const { log, entries } = capturedLogger();
    const { stage, metrics } = await startRemote({ url: rx.writeUrl }, { log });
    const t = target('tls');
    const base = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) stage.collector.probe(result(t, base + i, true), t); // 3 x 3 samples
    const failing = await waitFor('a verification failure', () => entries().find((e) => e.msg === 'remote write failing, retrying') ?? null);
    expect(String(failing.error)).toMatch(/CERT|SIGNATURE|ISSUER/i);
    const text = await metrics();
    expect(metric(text, 'lookout_remote_write_samples_sent_total')).toBe(0);
    expect(metric(text, 'lookout_remote_write_pending_samples')).toBe(9);
    expect(rx.requests).toHaveLength(0);

    // An unreadable CA file is named in the log; the batch still waits.
    await stage.reload(RemoteWriteList.parse([{ name: 'center', url: rx.writeUrl, tls: { ca_file: join(dir, 'missing.pem') }, queue: { send_interval: '100ms' } }]));
    const unreadable = entries().find((e) => e.msg === 'remote write CA file unreadable');
    expect(unreadable).toMatchObject({ remote: 'center', ca_file: join(dir, 'missing.pem'), code: 'ENOENT' });
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.requests).toHaveLength(0);

    await stage.reload(RemoteWriteList.parse([{ name: 'center', url: rx.writeUrl, tls: { ca_file: join(dir, 'ca.pem') }, queue: { send_interval: '100ms' } }]));
    await waitFor('delivery over TLS', async () => (metric(await metrics(), 'lookout_remote_write_samples_sent_total') === 9 ? true : null));
    expect(rx.accepted()).toHaveLength(9);
    expect(metric(await metrics(), 'lookout_remote_write_pending_samples')).toBe(0);
  }, 30_000);

  it('takes a self-signed receiver only with insecure_skip_verify', async () => {
    const certs = testCerts();
    const rx = await receiver({ tls: certs.selfSigned });
    const { log, entries } = capturedLogger();
    const { stage, metrics } = await startRemote({ url: rx.writeUrl }, { log });
    const t = target('self');
    stage.collector.probe(result(t, Date.now() - 1000, true), t);
    const failing = await waitFor('a verification failure', () => entries().find((e) => e.msg === 'remote write failing, retrying') ?? null);
    expect(String(failing.error)).toMatch(/SELF_SIGNED|CERT/i);
    expect(rx.requests).toHaveLength(0);
    await stage.reload(RemoteWriteList.parse([{ name: 'center', url: rx.writeUrl, tls: { insecure_skip_verify: true }, queue: { send_interval: '100ms' } }]));
    await waitFor('delivery', async () => (metric(await metrics(), 'lookout_remote_write_samples_sent_total') === 3 ? true : null));
    expect(rx.accepted()).toHaveLength(3);
  }, 30_000);

  it('sends basic_auth with an inline password or one read from password_file at each request, never logging it', async () => {
    const dir = tempDir();
    const pwFile = join(dir, 'password');
    writeFileSync(pwFile, 'first-s3cret\n');
    const rx = await receiver();
    const { log, entries } = capturedLogger();
    const fromFile = await startRemote({ url: rx.writeUrl, basic_auth: { username: 'kz-vantage', password_file: pwFile } }, { log });
    const t = target('auth');
    fromFile.stage.collector.probe(result(t, Date.now() - 2000, true), t);
    await waitFor('a first request', () => (rx.requests.length >= 1 ? true : null));
    // A rotated password is picked up without a reload.
    writeFileSync(pwFile, 'second-s3cret\n');
    fromFile.stage.collector.probe(result(t, Date.now() - 1000, true), t);
    await waitFor('a second request', () => (rx.requests.length >= 2 ? true : null));
    const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
    expect(rx.requests[0]?.headers.authorization).toBe(basic('kz-vantage', 'first-s3cret'));
    expect(rx.requests[1]?.headers.authorization).toBe(basic('kz-vantage', 'second-s3cret'));

    const inline = await startRemote({ url: rx.writeUrl, basic_auth: { username: 'other', password: 'inline-s3cret' } }, { log });
    inline.stage.collector.probe(result(t, Date.now(), true), t);
    await waitFor('a third request', () => (rx.requests.length >= 3 ? true : null));
    expect(rx.requests[2]?.headers.authorization).toBe(basic('other', 'inline-s3cret'));

    // A password file that disappears: retried (not skipped), and the log says why, not what.
    rmSync(pwFile);
    fromFile.stage.collector.probe(result(t, Date.now(), true), t);
    const failing = await waitFor('a credentials failure', () => entries().find((e) => e.msg === 'remote write failing, retrying') ?? null);
    expect(failing.error).toBe('credentials: ENOENT');
    expect(JSON.stringify(entries())).not.toMatch(/s3cret/);
  }, 30_000);

  it('waits as long as Retry-After says (seconds or an HTTP date) before sending the batch again, up to the backoff cap', async () => {
    const rx = await receiver();
    const { stage } = await startRemote({ url: rx.writeUrl }, { backoff: { minMs: 50, maxMs: 5000 } });
    const t = target('ra');
    const gapAfter = async (n: number): Promise<number> => {
      await waitFor(`request ${n + 1}`, () => (rx.requests.length >= n + 1 ? true : null));
      rx.answer(204);
      await waitFor(`request ${n + 2}`, () => (rx.requests.length >= n + 2 ? true : null));
      return (rx.requests[n + 1]?.at ?? NaN) - (rx.requests[n]?.at ?? NaN);
    };
    // Without Retry-After the first retry comes after 25-50 ms (minMs with jitter).
    rx.answer(503, 0, 'busy', { 'retry-after': '1' });
    stage.collector.probe(result(t, Date.now() - 3000, true), t);
    expect(await gapAfter(0)).toBeGreaterThanOrEqual(950);

    // An HTTP date 4 s ahead: whole seconds, so at least 3 s ahead now, and at least about 1.8 s
    // when the request goes (at the next flush, within a second and a bit).
    rx.answer(429, 0, 'slow down', { 'retry-after': new Date(Date.now() + 4000).toUTCString() });
    stage.collector.probe(result(t, Date.now() - 2000, true), t);
    expect(await gapAfter(2)).toBeGreaterThanOrEqual(1500);
    expect(rx.accepted()).toHaveLength(6);

    // An hour asked for: the backoff cap (here 400 ms) wins, so a vantage never sits idle on a receiver's word.
    const capped = await receiver();
    const second = await startRemote({ url: capped.writeUrl }, { backoff: { minMs: 50, maxMs: 400 } });
    capped.answer(503, 0, 'busy', { 'retry-after': '3600' });
    second.stage.collector.probe(result(t, Date.now(), true), t);
    await waitFor('request 1', () => (capped.requests.length >= 1 ? true : null));
    capped.answer(204);
    await waitFor('request 2', () => (capped.requests.length >= 2 ? true : null), 3000);
    expect((capped.requests[1]?.at ?? NaN) - (capped.requests[0]?.at ?? NaN)).toBeLessThan(1500);
  }, 30_000);
});

describe('remote write pacing', () => {
  it('ships a steady trickle once per send_interval, and a full batch at once', async () => {
    const rx = await startCountingReceiver();
    cleanups.push(() => rx.close());
    const { stage } = await startStage(rx.writeUrl, { send_interval: '2s', batch_samples: 60 });
    const t = target('steady');
    // 3 samples per result, a result every 200 ms for 6.5 s: about 100 samples, made durable
    // at each one-second flush, but never a full batch (60) pending: at most 30 per interval.
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < 6500) {
      stage.collector.probe(result(t, Date.now(), true), t);
      i++;
      await new Promise((r) => setTimeout(r, 200));
      if (i % 5 === 0 && rx.requests.length > 0) expect(rx.requests.at(-1)?.series.reduce((n, s) => n + s.samples.length, 0)).toBeLessThan(60);
    }
    const gaps = rx.requests.slice(1).map((r, k) => r.at - (rx.requests[k]?.at ?? NaN));
    // One request per flush would be six or seven; one per send_interval is three or four.
    expect(rx.requests.length).toBeGreaterThanOrEqual(2);
    expect(rx.requests.length).toBeLessThanOrEqual(4);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(1900);

    // A full batch pending at a flush: sent at that flush, without waiting out the interval.
    await waitFor('the trickle delivered', () => (rx.accepted().length === i * 3 ? true : null));
    const before = rx.requests.length;
    const at = Date.now();
    for (let k = 0; k < 20; k++) stage.collector.probe(result(t, Date.now() + k, true), t);
    await waitFor('the full batch', () => (rx.requests.length > before ? true : null));
    expect(rx.requests[before]?.series.reduce((n, s) => n + s.samples.length, 0)).toBe(60);
    expect((rx.requests[before]?.at ?? NaN) - at).toBeLessThan(1800);
  }, 30_000);
});
