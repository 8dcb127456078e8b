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
   * The schedule's probe interval, ms (a target's own `interval` overrides it). Every member of
   * one outage begins failing within one interval of the others (each is probed once per
   * interval), which is how an event's start is told from failures that began long before.
   * Default 60 s.
   */
  interval?: number;
  /**
   * After resume(): how long (ms after the first evaluation) to wait for every target to report a
   * settled state before judging the resumed events anyway. Default 10 minutes.
   */
  resumeGraceMs?: number;
  /**
   * The path (source binding name) this detector judges; "" or absent: the default route. Its
   * events carry it (`path`, and `@path` at the end of the id).
   */
  path?: string;
}

export const DEFAULT_RESUME_GRACE_MS = 600_000;

export const DEFAULT_INTERVAL_MS = 60_000;
