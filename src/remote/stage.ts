/**
 * The remote write stage (docs/design.md "Remote write"): one durable queue and one sender per
 * configured remote, fed by the collector, flushed to disk every FLUSH_EVERY_MS. Reload keeps a
 * remote's queue (and its backlog) while its name is unchanged, restarting only its sender with
 * the new settings; a remote that leaves the config stops, its queue files stay on disk. stop()
 * flushes what was appended and is bounded.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { RemoteWriteResolved } from '../config/schema.js';
import type { Logger } from '../log.js';
import { Collector, type EvaluationView } from './collector.js';
import { registerRemoteWriteMetrics, type RemoteCounters, type RemoteWriteMetrics } from './metrics.js';
import { DurableQueue } from './queue.js';
import { Sender } from './sender.js';

/** How often appended samples are written and fsynced (and so how much a SIGKILL can lose at most). */
export const FLUSH_EVERY_MS = 1000;

export interface StageOptions {
  remotes: readonly RemoteWriteResolved[];
  /** storage.dir, resolved: queues live in <storageDir>/remote-write/<name>/. */
  storageDir: string;
  vantage: string;
  registry: Registry;
  log: Logger;
  /** For tests: sender backoff bounds. */
  backoff?: { minMs: number; maxMs: number };
}

interface Remote {
  config: RemoteWriteResolved;
  readonly queue: DurableQueue;
  sender: Sender;
  readonly counters: RemoteCounters;
}

export class RemoteWriteStage {
  readonly collector: Collector;
  private remotes: Remote[] = [];
  private readonly metrics: RemoteWriteMetrics;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  private constructor(private readonly opts: StageOptions) {
    this.collector = new Collector(opts.vantage, () => this.remotes.map((r) => r.queue));
    this.metrics = registerRemoteWriteMetrics(opts.registry, () => this.remotes.map((r) => ({ name: r.config.name, status: () => r.queue.status() })));
  }

  /** Opens every remote's queue (resuming its backlog) and starts the senders. */
  static async start(opts: StageOptions): Promise<RemoteWriteStage> {
    const stage = new RemoteWriteStage(opts);
    for (const config of opts.remotes) stage.remotes.push(await stage.open(config));
    stage.arm();
    return stage;
  }

  /** Whether any remote is configured (the evaluation view is only built then). */
  get enabled(): boolean {
    return this.remotes.length > 0;
  }

  /** One detector evaluation (see Collector.evaluation). */
  evaluation(at: number, view: () => EvaluationView): void {
    if (this.remotes.length > 0) this.collector.evaluation(at, view());
  }

  /** Applies a new remote_write list. Never rejects: a remote that cannot open is logged and left out. */
  async reload(next: readonly RemoteWriteResolved[]): Promise<void> {
    const byName = new Map(this.remotes.map((r) => [r.config.name, r]));
    const kept: Remote[] = [];
    for (const config of next) {
      const old = byName.get(config.name);
      byName.delete(config.name);
      if (old !== undefined && JSON.stringify(old.config) === JSON.stringify(config)) {
        kept.push(old);
        continue;
      }
      if (old !== undefined) {
        // Same queue, new settings: only the sender is replaced.
        await old.sender.stop(1000);
        old.sender = await this.sender(config, old.queue, old.counters);
        old.config = config;
        kept.push(old);
        this.opts.log.info({ remote: config.name, url: config.url }, 'remote write settings changed; queue kept');
        continue;
      }
      try {
        kept.push(await this.open(config));
        this.opts.log.info({ remote: config.name, url: config.url }, 'remote write added');
      } catch (err) {
        this.opts.log.error({ remote: config.name, err }, 'remote write queue could not be opened; remote left out');
      }
    }
    for (const gone of byName.values()) {
      await gone.sender.stop(1000);
      await gone.queue.close();
      this.metrics.forget(gone.config.name);
      this.opts.log.info({ remote: gone.config.name, pending: gone.queue.status().pendingSamples }, 'remote write removed; its queue stays on disk');
    }
    this.remotes = kept;
  }

  /**
   * Stops the senders (a request in flight gets up to graceMs), then writes what was appended
   * and closes the queues. Never rejects.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(
      this.remotes.map(async (r) => {
        await r.sender.stop(graceMs);
        await r.queue.close().catch((err: unknown) => this.opts.log.error({ remote: r.config.name, err }, 'remote write queue could not be closed'));
      }),
    );
  }

  private async open(config: RemoteWriteResolved): Promise<Remote> {
    const counters = this.metrics.counters(config.name);
    // The queue wakes whichever sender the remote has now (a reload may replace it).
    const holder: { remote: Remote | null } = { remote: null };
    const queue = await DurableQueue.open({
      dir: join(this.opts.storageDir, 'remote-write', config.name),
      maxBytes: config.queue.max_bytes,
      remote: config.name,
      log: this.opts.log,
      onDurable: () => holder.remote?.sender.wake(),
      onDrop: (n) => counters.dropped(n),
    });
    const sender = await this.sender(config, queue, counters);
    holder.remote = { config, queue, sender, counters };
    const st = queue.status();
    this.opts.log.info({ remote: config.name, url: config.url, pending: st.pendingSamples, pending_bytes: st.pendingBytes }, 'remote write started');
    return holder.remote;
  }

  private async sender(config: RemoteWriteResolved, queue: DurableQueue, counters: RemoteCounters): Promise<Sender> {
    let ca: string | undefined;
    if (config.tls?.ca_file !== undefined) {
      try {
        ca = await readFile(config.tls.ca_file, 'utf8');
      } catch (err) {
        // Every request then fails verification and is retried: nothing queued is lost.
        this.opts.log.error({ remote: config.name, ca_file: config.tls.ca_file, code: (err as NodeJS.ErrnoException).code }, 'remote write CA file unreadable');
        ca = '';
      }
    }
    const backoff = this.opts.backoff;
    const sender = new Sender({
      remote: config,
      queue,
      counters,
      log: this.opts.log,
      ...(ca !== undefined ? { ca } : {}),
      ...(backoff ? { minBackoffMs: backoff.minMs, maxBackoffMs: backoff.maxMs } : {}),
    });
    sender.start();
    return sender;
  }

  /** The flush timer: every FLUSH_EVERY_MS, what was appended is written and fsynced. */
  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void Promise.all(this.remotes.map((r) => r.queue.flush().catch((err: unknown) => this.opts.log.error({ remote: r.config.name, err }, 'remote write queue: flush failed'))))
        .finally(() => this.arm());
    }, FLUSH_EVERY_MS);
    this.timer.unref();
  }
}
