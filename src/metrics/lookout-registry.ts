/**
 * The daemon's prom-client Registry. Its text exposition renders SeriesGauge metrics from their
 * pre-rendered label text and every other metric as prom-client does, and lets the event loop
 * run between metrics and every few thousand series, so a scrape of a large daemon never holds
 * up probes for its whole length.
 */
import { setImmediate } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { labelText, SeriesGauge } from './series-gauge.js';

/** Lets the event loop run (timers, I/O: the probes) before the scrape goes on. */
const pause = (): Promise<void> => setImmediate();

export class LookoutRegistry extends Registry {
  /** The default labels as label text (`vantage="fra-1"`), appended to every series. */
  private defaultText = '';

  override setDefaultLabels(labels: object): void {
    super.setDefaultLabels(labels);
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(labels)) values[name] = String(value);
    this.defaultText = labelText(values);
  }

  /** The Prometheus text format (the OpenMetrics content type falls back to prom-client's). */
  override async metrics(): Promise<string> {
    if (this.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) return super.metrics();
    const parts: string[] = [];
    for (const metric of this.getMetricsAsArray()) {
      if (parts.length > 0) await pause();
      parts.push(metric instanceof SeriesGauge ? await metric.exposition(this.defaultText, pause) : await this.getSingleMetricAsString(metric.name));
    }
    return `${parts.join('\n\n')}\n`;
  }
}
