/**
 * Process and Node.js runtime metrics (prom-client's default set: process_*, nodejs_*) on a
 * given registry, minus the gauges prom-client names with a `_total` suffix
 * (nodejs_active_handles_total, nodejs_active_requests_total, nodejs_active_resources_total).
 * Prometheus reserves `_total` for counters and `promtool check metrics` rejects them; each is
 * only the sum of its per-type gauge (nodejs_active_handles{type} ...), which stays.
 */
import { collectDefaultMetrics, type Registry } from 'prom-client';

export function collectRuntimeMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    if (name.endsWith('_total') && type !== 'counter') registry.removeSingleMetric(name);
  }
}
