/**
 * lookout_target_geo_mismatch: the location check's verdict per target, computed at scrape
 * time. 1 while the target's last located address lies outside its declared country (or AS),
 * 0 while it is in place; no series before an address of it was located or with the check off.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ResolvedTarget } from '../config/schema.js';
import type { GeoCheck } from '../geo/geo-check.js';
import { geoMismatchLabels, LABEL_NAMES } from './labels.js';
import * as names from './names.js';

export function registerGeoMetrics(registry: Registry, targets: () => readonly ResolvedTarget[], geo: Pick<GeoCheck, 'verdict'>): void {
  new Gauge({
    name: names.TARGET_GEO_MISMATCH,
    help: 'Whether the target answers from outside its declared country or AS (1) or inside (0); absent while not located.',
    labelNames: LABEL_NAMES.geoMismatch,
    registers: [registry],
    collect(this: Gauge<'target' | 'path' | 'country' | 'located_country' | 'located_asn'>) {
      this.reset();
      for (const t of targets()) {
        const v = geo.verdict(t.id);
        if (v === undefined) continue;
        this.set(geoMismatchLabels(t, v), v.mismatch === null ? 0 : 1);
      }
    },
  });
}
