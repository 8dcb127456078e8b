/**
 * Adds the location check's verdicts to the detector's status (GET /api/v1/status): each
 * target gets `geo`, null until an address of it was located, else where it answers from,
 * whether that is outside its declared country or AS, and whether it still counts.
 */
import type { DetectorStatus, TargetStatus } from '../detect/detector.js';
import { countsForVerdicts } from '../detect/geo-eligibility.js';
import type { ResolvedTarget } from '../config/schema.js';
import type { GeoCheck, GeoVerdict } from './geo-check.js';

export interface TargetGeo extends GeoVerdict {
  /** False when the mismatch takes the target out of its country's verdicts. */
  counted: boolean;
}

export type TargetStatusWithGeo = TargetStatus & { geo: TargetGeo | null };

export interface StatusWithGeo extends Omit<DetectorStatus, 'targets'> {
  /** False: no database, the check is off. */
  geo_check: boolean;
  targets: TargetStatusWithGeo[];
}

export function withGeo(
  status: DetectorStatus,
  geo: Pick<GeoCheck, 'verdict' | 'enabled'>,
  targets: { target(id: string): Pick<ResolvedTarget, 'country' | 'control' | 'geo'> | undefined },
): StatusWithGeo {
  const home = status.vantage.country ?? undefined;
  return {
    ...status,
    geo_check: geo.enabled,
    targets: status.targets.map((t) => {
      const v = geo.verdict(t.id);
      const target = targets.target(t.id);
      if (v === undefined || target === undefined) return { ...t, geo: null };
      return { ...t, geo: { ...v, counted: countsForVerdicts(target, v.mismatch !== null, home) } };
    }),
  };
}
