/**
 * What the detector is configured with: thresholds, the vantage point and the targets.
 */
import type { Config, ResolvedTarget } from '../config/schema.js';

/** The `detection:` section of the config; durations in milliseconds. */
export type DetectionSettings = Config['detection'];

/** Where the detector sees from. `country` set means the inside-out perspective (docs/design.md). */
export interface VantageInfo {
  id: string;
  country?: string;
  asn?: number;
}

export interface DetectorOptions {
  detection: DetectionSettings;
  vantage: VantageInfo;
  targets: readonly ResolvedTarget[];
  /**
   * After resume(): how long (ms after the first evaluation) to wait for every target to report a
   * settled state before judging the resumed events anyway. Default 10 minutes.
   */
  resumeGraceMs?: number;
}

export const DEFAULT_RESUME_GRACE_MS = 600_000;
