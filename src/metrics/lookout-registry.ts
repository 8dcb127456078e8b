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
    let text = '';
    for await (const piece of await this.exposition()) text += piece;
    return text;
  }

  /**
   * The Prometheus text format as pieces to write one after the other (their concatenation is
   * metrics()), so that a scrape of tens of thousands of series never builds the whole answer
   * as one string. Everything that can fail (prom-client collect() callbacks, SeriesGauge
   * refresh callbacks) runs before this resolves: an error rejects it, before anything could
   * have been sent. The pieces then let the event loop run between metrics and every few
   * thousand series. Only for the Prometheus content type (see metrics()).
   */
  async exposition(): Promise<AsyncIterable<string>> {
    const rendered: (string | SeriesGauge<string>)[] = [];
    for (const metric of this.getMetricsAsArray()) {
      if (rendered.length > 0) await pause();
      if (metric instanceof SeriesGauge) {
        metric.refreshValues();
        rendered.push(metric);
      } else {
        rendered.push(`${await this.getSingleMetricAsString(metric.name)}\n`);
      }
    }
    const defaultText = this.defaultText;
    return (async function* pieces(): AsyncGenerator<string> {
      for (const [i, part] of rendered.entries()) {
        // Metrics are separated by a blank line, as prom-client separates them.
        if (i > 0) yield '\n';
        if (typeof part === 'string') yield part;
        else yield* part.pieces(defaultText, { pause, refresh: false });
      }
    })();
  }
}
