/**
 * The event log's health (issue 13): whether it takes writes, how many events wait in memory
 * for the disk, and failed storage operations by step. Gauges are read at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StorageOp, StorageStatus } from '../store/event-store.js';
import * as names from './names.js';

const OPS: readonly StorageOp[] = ['check', 'write', 'sync', 'rotate'];

export interface StorageMetrics {
  /** Counts one failed storage operation. */
  error(op: StorageOp): void;
}

/** Registers the storage metrics on `registry`; `status` is read at every scrape (null before the store is open). */
export function registerStorageMetrics(registry: Registry, status: () => StorageStatus | null): StorageMetrics {
  const registers = [registry];
  new Gauge({
    name: names.STORAGE_HEALTHY,
    help: 'Whether the event log takes writes (0 from a failed write until the events held meanwhile are written).',
    registers,
    collect(this: Gauge) {
      this.set(status()?.healthy === false ? 0 : 1);
    },
  });
  new Gauge({
    name: names.EVENTS_PENDING,
    help: 'Events held in memory that are not yet durable in the event log.',
    registers,
    collect(this: Gauge) {
      this.set(status()?.pending ?? 0);
    },
  });
  const errors = new Counter({
    name: names.STORAGE_ERRORS_TOTAL,
    help: 'Failed storage operations of the event log, by step.',
    labelNames: ['op'] as const,
    registers,
  });
  for (const op of OPS) errors.inc({ op }, 0);
  return { error: (op) => errors.inc({ op }) };
}
