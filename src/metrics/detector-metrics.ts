/**
 * The detector's metrics (docs/design.md "Metrics"): gauges computed at scrape time from the
 * detector's state, so a scrape always shows the latest evaluation and no series outlives
 * its target or event; lookout_disruptions_total counts events as they open.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { EVENT_KINDS, type DisruptionEvent } from '../detect/events.js';
import { countryLabels, disruptionActiveLabels, disruptionsTotalLabels, LABEL_NAMES, targetUpLabels, vantageOnlineLabels } from './labels.js';
import * as names from './names.js';
import { SeriesGauge, type GaugeSeries } from './series-gauge.js';

type CountryView = { country: string; ratio: number | null; latency_ratio: number | null };

/**
 * What the detector exposes for scraping. With source bindings (src/detect/paths.ts) `paths`
 * holds each path's vantage and countries, bound targets carry `path` (their id ends in
 * `@path`) and so do the events; every series of a bound path gets a `path` label, and the
 * default path's series have none, as before.
 */
export interface DetectorView {
  status(): {
    vantage: { online: boolean | null };
    countries: readonly CountryView[];
    targets: readonly { id: string; path?: string; country: string; asn: number | null; category: string; control: boolean; state: string }[];
    paths?: readonly { path: string; vantage: { online: boolean | null }; countries: readonly CountryView[] }[];
  };
  active(): readonly DisruptionEvent[];
}

/** Each path's vantage and countries (the default path alone without source bindings). */
export function pathViews(status: ReturnType<DetectorView['status']>): readonly { path: string; vantage: { online: boolean | null }; countries: readonly CountryView[] }[] {
  return status.paths ?? [{ path: '', vantage: status.vantage, countries: status.countries }];
}

/** Collects within this many milliseconds of each other belong to one scrape. */
const SNAPSHOT_REUSE_MS = 250;

/** The per-country ratio gauges: a country whose ratio cannot be computed has no series. */
const COUNTRY_RATIOS: readonly { name: string; help: string; value: (c: CountryView) => number | null }[] = [
  { name: names.COUNTRY_REACHABILITY_RATIO, help: 'Share of the eligible targets of a country that are reachable.', value: (c) => c.ratio },
  { name: names.COUNTRY_LATENCY_RATIO, help: "Median latency of a country's reachable targets over their own baselines.", value: (c) => c.latency_ratio },
];

export interface DetectorMetrics {
  /** Counts an event that just opened. */
  opened(event: DisruptionEvent): void;
}

/**
 * Registers the detector's metrics on `registry`. lookout_target_up is 1 for up (and suspect:
 * one failure awaiting its confirm is not down), 0 for down; unknown and dead targets have no
 * series (they do not count). Ratios that cannot be computed have no series.
 */
export function registerDetectorMetrics(registry: Registry, detector: () => DetectorView): DetectorMetrics {
  const registers = [registry];
  // One scrape calls every collect() within milliseconds: take the detector's status once and
  // share it, rather than rebuilding it per gauge (it is O(targets)).
  let snapshot: { taken: number; status: ReturnType<DetectorView['status']>; active: readonly DisruptionEvent[] } | null = null;
  const view = (): { status: () => ReturnType<DetectorView['status']>; active: () => readonly DisruptionEvent[] } => {
    const now = performance.now();
    if (snapshot === null || now - snapshot.taken > SNAPSHOT_REUSE_MS) {
      const d = detector();
      snapshot = { taken: now, status: d.status(), active: d.active() };
    }
    const s = snapshot;
    return { status: () => s.status, active: () => s.active };
  };
  // One series per target, rebuilt at every scrape: a SeriesGauge, whose series keep their
  // label text from one scrape to the next (see series-gauge.ts).
  const upSeries = new Map<string, { country: string; asn: number | null; category: string; series: GaugeSeries; epoch: number }>();
  let epoch = 0;
  const targetUp: SeriesGauge<'target' | 'path' | 'country' | 'asn' | 'category'> = new SeriesGauge({
    name: names.TARGET_UP,
    help: 'Whether the detector holds the target up (1) or down (0); absent while unknown or dead.',
    labelNames: LABEL_NAMES.targetUp,
    registers,
    refresh() {
      epoch++;
      for (const t of view().status().targets) {
        if (t.control) continue;
        // Compared field by field: no key string built per target per scrape.
        let entry = upSeries.get(t.id);
        if (entry && (entry.country !== t.country || entry.asn !== t.asn || entry.category !== t.category)) {
          targetUp.delete(entry.series);
          entry = undefined;
        }
        if (!entry) {
          entry = { country: t.country, asn: t.asn, category: t.category, series: targetUp.series(targetUpLabels(t)), epoch };
          upSeries.set(t.id, entry);
        }
        entry.epoch = epoch;
        const up = t.state === 'up' || t.state === 'suspect' ? 1 : t.state === 'down' ? 0 : null;
        if (up === null) entry.series.clear();
        else entry.series.set(up);
      }
      for (const [id, entry] of upSeries) {
        if (entry.epoch === epoch) continue;
        targetUp.delete(entry.series);
        upSeries.delete(id);
      }
    },
  });
  for (const ratio of COUNTRY_RATIOS) {
    new Gauge({
      name: ratio.name,
      help: ratio.help,
      labelNames: LABEL_NAMES.countryRatio,
      registers,
      collect(this: Gauge<'country' | 'path'>) {
        this.reset();
        for (const p of pathViews(view().status())) {
          for (const c of p.countries) {
            const value = ratio.value(c);
            if (value !== null) this.set(countryLabels(c.country, p.path), value);
          }
        }
      },
    });
  }
  new Gauge({
    name: names.DISRUPTION_ACTIVE,
    help: 'Open disruption events (1 per event), by kind, country, asn, category and mechanism.',
    labelNames: LABEL_NAMES.disruptionActive,
    registers,
    collect(this: Gauge<'kind' | 'country' | 'asn' | 'category' | 'mechanism' | 'path'>) {
      this.reset();
      for (const e of view().active()) this.inc(disruptionActiveLabels(e));
    },
  });
  new Gauge({
    name: names.VANTAGE_ONLINE,
    help: "1 while the vantage point's controls answer, 0 while it is offline; absent until known. Per path with source bindings.",
    labelNames: LABEL_NAMES.vantageOnline,
    registers,
    collect(this: Gauge<'path'>) {
      this.reset();
      for (const p of pathViews(view().status())) {
        if (p.vantage.online !== null) this.set(vantageOnlineLabels(p.path), p.vantage.online ? 1 : 0);
      }
    },
  });
  const disruptions = new Counter({
    name: names.DISRUPTIONS_TOTAL,
    help: 'Disruption events opened, by kind and country.',
    labelNames: LABEL_NAMES.disruptionsTotal,
    registers,
    // Every kind of every watched country exists from the start at 0, so the first event shows
    // as an increase (a series born at 1 has no increase()); countries come and go with reloads.
    collect(this: Counter<'kind' | 'country' | 'path'>) {
      for (const p of pathViews(view().status())) {
        this.inc(disruptionsTotalLabels('vantage_offline', null, p.path), 0);
        for (const c of p.countries) {
          // vantage_offline too: inside-out, it names the vantage's country.
          for (const kind of EVENT_KINDS) this.inc(disruptionsTotalLabels(kind, c.country, p.path), 0);
        }
      }
    },
  });
  return {
    opened(event) {
      disruptions.inc(disruptionsTotalLabels(event.kind, event.country, event.path));
    },
  };
}
