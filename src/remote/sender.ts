/**
 * The sender of one remote: ships the queue's batches in order with undici, one request at a
 * time. 2xx: the batch is acknowledged (persisted) and the next one goes at once, so a backlog
 * drains back to back. Network error, 5xx, 408 or 429: the same batch again after an exponential
 * backoff with jitter (Retry-After honoured up to the cap). 400 and any other 4xx: logged and
 * skipped (acknowledged, counted as failed), never retried. Pending samples go out once a full
 * batch (batch_samples) is pending or send_interval has passed since the last batch was done
 * with, whichever comes first (Prometheus' max_samples_per_send and batch_send_deadline): a
 * steady vantage makes one request per send_interval, a backlog drains back to back.
 */
import { readFile } from 'node:fs/promises';
import type { RemoteWriteResolved } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { RemoteCounters } from './metrics.js';
import { encodeWriteRequest, REMOTE_WRITE_HEADERS } from './prompb.js';
import type { Batch, DurableQueue } from './queue.js';
import { HttpTransport, TransportError, type TransportAnswer } from './transport.js';

export interface SenderOptions {
  remote: RemoteWriteResolved;
  queue: DurableQueue;
  counters: RemoteCounters;
  log: Logger;
  /** PEM text of tls.ca_file, read by the caller. */
  ca?: string;
  /** First retry delay; doubles per failure up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request limit on waiting for the answer's headers and body. */
  requestTimeoutMs?: number;
}

/** What one request came to. */
type Outcome =
  | { kind: 'ok' }
  | { kind: 'refused'; status: number; body: string }
  | { kind: 'retry'; error: string; retryAfterMs: number | null };

const DEFAULT_MIN_BACKOFF_MS = 100;
const DEFAULT_MAX_BACKOFF_MS = 5_000;
/** A 5xx body that refuses the samples themselves (tests/integration/prometheus-center.test.ts). */
const SAMPLE_REFUSAL = /too old sample|out of bounds|out of order sample/i;

/** 'remote write failing, retrying' at most this often per remote. */
const FAILING_LOG_EVERY_MS = 30_000;
const BODY_EXCERPT = 256;

export class Sender {
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  /** A wake() that came while not sleeping: the next sleep returns at once. */
  private woken = false;
  private readonly inFlight = new AbortController();
  private running: Promise<void> | null = null;
  /** The HTTP requests, in a worker thread (transport.ts says why). */
  private readonly transport: HttpTransport;
  private failingSince: number | null = null;
  private lastFailingLog = 0;
  /** When the last batch was done with (acknowledged or refused): send_interval counts from it. */
  private lastBatchDone = -Infinity;

  constructor(private readonly opts: SenderOptions) {
    const tls = opts.remote.tls;
    this.transport = new HttpTransport({
      rejectUnauthorized: !(tls?.insecure_skip_verify ?? false),
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      timeoutMs: opts.requestTimeoutMs ?? 30_000,
      bodyExcerpt: BODY_EXCERPT,
    });
  }

  /** Starts the send loop. */
  start(): void {
    this.running ??= this.loop();
  }

  /** New samples are durable (or the sender is stopping): look again whether a batch is due. */
  wake(): void {
    if (this.wakeUp !== null) this.wakeUp();
    else this.woken = true;
  }

  /**
   * Stops the loop: a request in flight may finish within `graceMs` (its batch is then
   * acknowledged), after that it is aborted and its batch stays pending. Never rejects.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.wake();
    const running = this.running ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(() => {
        this.inFlight.abort();
        r();
      }, graceMs);
    });
    await Promise.race([running, late]);
    await running;
    clearTimeout(timer);
    await this.transport.close();
  }

  private async loop(): Promise<void> {
    const { queue, remote, log } = this.opts;
    let backoff = this.opts.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS;
    const maxBackoff = this.opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    let retrying = false;
    while (!this.stopped) {
      // A retry goes at the backoff's pace; otherwise a partial batch waits for send_interval.
      const pending = queue.pendingSamples;
      const due = this.lastBatchDone + remote.queue.send_interval - Date.now();
      if (pending === 0 || (!retrying && pending < remote.queue.batch_samples && due > 0)) {
        await this.sleep(pending === 0 ? remote.queue.send_interval : due);
        continue;
      }
      let batch: Batch | null;
      try {
        batch = await queue.peek(remote.queue.batch_samples);
      } catch (err) {
        log.error({ remote: remote.name, err }, 'remote write queue: read failed');
        await this.sleep(maxBackoff);
        continue;
      }
      if (batch === null) {
        await this.sleep(remote.queue.send_interval);
        continue;
      }
      const outcome = await this.send(batch);
      retrying = outcome.kind === 'retry';
      if (this.stopped && outcome.kind === 'retry') break;
      this.opts.counters.request(outcome.kind);
      if (outcome.kind === 'retry') {
        const now = Date.now();
        this.failingSince ??= now;
        const jittered = backoff / 2 + (Math.random() * backoff) / 2;
        const delay = Math.min(maxBackoff, Math.max(jittered, outcome.retryAfterMs ?? 0));
        if (now - this.lastFailingLog >= FAILING_LOG_EVERY_MS) {
          this.lastFailingLog = now;
          log.warn({ remote: remote.name, error: outcome.error, backoff_s: round(delay / 1000) }, 'remote write failing, retrying');
        }
        backoff = Math.min(maxBackoff, backoff * 2);
        await this.sleep(delay);
        continue;
      }
      backoff = this.opts.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS;
      this.lastBatchDone = Date.now();
      if (outcome.kind === 'refused') {
        this.opts.counters.failed(batch.samples);
        log.warn({ remote: remote.name, status: outcome.status, samples: batch.samples, body: outcome.body }, 'remote write refused a batch');
      } else {
        this.opts.counters.sent(batch.samples);
      }
      try {
        await queue.ack(batch);
      } catch (err) {
        // The batch goes again (a duplicate the receiver takes as such), nothing is lost.
        log.error({ remote: remote.name, err }, 'remote write queue: could not persist the acknowledged position');
      }
      if (outcome.kind === 'ok' && this.failingSince !== null) {
        log.info({ remote: remote.name, after_s: round((Date.now() - this.failingSince) / 1000), pending: queue.status().pendingSamples }, 'remote write recovered');
        this.failingSince = null;
        this.lastFailingLog = 0;
      }
    }
  }

  /** One request; network outcomes are data. */
  private async send(batch: Batch): Promise<Outcome> {
    const { remote } = this.opts;
    let headers: Record<string, string>;
    try {
      headers = await this.headers();
    } catch (err) {
      return { kind: 'retry', error: `credentials: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, retryAfterMs: null };
    }
    let res: TransportAnswer;
    try {
      res = await this.transport.post(remote.url, headers, encodeWriteRequest(batch.series), this.inFlight.signal);
    } catch (err) {
      const e = err instanceof TransportError ? err : new TransportError(undefined, String(err));
      return { kind: 'retry', error: e.code ?? e.message, retryAfterMs: null };
    }
    const { status, body } = res;
    if (status >= 200 && status < 300) return { kind: 'ok' };
    // Prometheus 2.42 answers a sample older than its out-of-order window with 500 "too old
    // sample" (later versions with 400): that batch will never be taken, and retrying it would
    // hold every newer sample behind it until the disk budget dropped it.
    if (status >= 500 && SAMPLE_REFUSAL.test(body)) return { kind: 'refused', status, body };
    if (status >= 500 || status === 429 || status === 408) {
      return { kind: 'retry', error: `HTTP ${status}`, retryAfterMs: retryAfter(res.retryAfter) };
    }
    return { kind: 'refused', status, body };
  }

  /** Request headers: the protocol's, the configured ones, and credentials read from their files now (so a rotated secret is picked up). */
  private async headers(): Promise<Record<string, string>> {
    const { remote } = this.opts;
    const headers: Record<string, string> = { ...remote.headers, ...REMOTE_WRITE_HEADERS, 'user-agent': 'lookout-remote-write' };
    if (remote.bearer_token_file !== undefined) {
      headers.authorization = `Bearer ${(await readFile(remote.bearer_token_file, 'utf8')).trim()}`;
    } else if (remote.basic_auth !== undefined) {
      const { username, password, password_file } = remote.basic_auth;
      const pw = password_file !== undefined ? (await readFile(password_file, 'utf8')).trim() : (password ?? '');
      headers.authorization = `Basic ${Buffer.from(`${username}:${pw}`).toString('base64')}`;
    }
    return headers;
  }

  /** Waits `ms` or until woken (new samples, stop). */
  private sleep(ms: number): Promise<void> {
    if (this.stopped || this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Retry-After in milliseconds (seconds or an HTTP date); null when absent or unreadable. */
function retryAfter(v: string | undefined): number | null {
  if (v === undefined) return null;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
