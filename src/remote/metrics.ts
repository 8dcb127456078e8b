/**
 * The remote write stage's metrics (README "Metrics", label `remote`): queue gauges read at
 * scrape time from each queue, counters incremented by the sender and the queue.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import * as names from '../metrics/names.js';
import type { QueueStatus } from './queue.js';

export type RequestOutcome = 'ok' | 'refused' | 'retry';
const OUTCOMES: readonly RequestOutcome[] = ['ok', 'refused', 'retry'];

/** The counters of one remote. */
export interface RemoteCounters {
  sent(samples: number): void;
  failed(samples: number): void;
  dropped(samples: number): void;
  request(outcome: RequestOutcome): void;
}

export interface RemoteWriteMetrics {
  /** The counters of `remote`, created at 0 so that the first increase shows. */
  counters(remote: string): RemoteCounters;
  /** Removes every series of a remote that left the config. */
  forget(remote: string): void;
}

/**
 * Registers the metrics on `registry`. `queues` is read at every scrape: the name and status of
 * each configured remote's queue.
 */
export function registerRemoteWriteMetrics(registry: Registry, queues: () => readonly { name: string; status: () => QueueStatus }[], now: () => number = Date.now): RemoteWriteMetrics {
  const registers = [registry];
  const gauge = (name: string, help: string, value: (s: QueueStatus) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['remote'] as const,
      registers,
      collect(this: Gauge<'remote'>) {
        this.reset();
        for (const q of queues()) this.set({ remote: q.name }, value(q.status()));
      },
    });
  };
  gauge(names.REMOTE_WRITE_PENDING_SAMPLES, 'Samples durable in the remote write queue and not yet acknowledged by the receiver.', (s) => s.pendingSamples);
  gauge(names.REMOTE_WRITE_PENDING_BYTES, "Bytes of the remote write queue's segment files on disk.", (s) => s.pendingBytes);
  gauge(names.REMOTE_WRITE_OLDEST_PENDING_AGE_SECONDS, 'Age of the oldest sample waiting in the remote write queue, seconds (0 when none waits).', (s) =>
    s.oldestTs === null ? 0 : Math.max(0, (now() - s.oldestTs) / 1000),
  );
  const counter = (name: string, help: string): Counter<'remote'> => new Counter({ name, help, labelNames: ['remote'] as const, registers });
  const sent = counter(names.REMOTE_WRITE_SAMPLES_SENT_TOTAL, 'Samples acknowledged by the remote write receiver.');
  const failed = counter(names.REMOTE_WRITE_SAMPLES_FAILED_TOTAL, 'Samples the receiver refused with a 4xx answer (logged and skipped, never retried).');
  const dropped = counter(names.REMOTE_WRITE_SAMPLES_DROPPED_TOTAL, 'Samples dropped unsent because the queue was over queue.max_bytes (the oldest go first).');
  const requests = new Counter({
    name: names.REMOTE_WRITE_REQUESTS_TOTAL,
    help: 'Remote write requests by outcome: ok (acknowledged), refused (4xx, skipped), retry (network error, 5xx or 429).',
    labelNames: ['remote', 'outcome'] as const,
    registers,
  });
  return {
    counters(remote) {
      for (const c of [sent, failed, dropped]) c.inc({ remote }, 0);
      for (const outcome of OUTCOMES) requests.inc({ remote, outcome }, 0);
      return {
        sent: (n) => sent.inc({ remote }, n),
        failed: (n) => failed.inc({ remote }, n),
        dropped: (n) => dropped.inc({ remote }, n),
        request: (outcome) => requests.inc({ remote, outcome }),
      };
    },
    forget(remote) {
      for (const c of [sent, failed, dropped]) c.remove({ remote });
      for (const outcome of OUTCOMES) requests.remove({ remote, outcome });
    },
  };
}
