/**
 * The reload decision: from the running config and a newly loaded, valid one, what the daemon
 * keeps, updates or cannot change without a restart. Pure: no I/O, no clock, no logging (the
 * app applies the plan, src/app/log-lines.ts words it). A config that fails to load never gets
 * here: the running one stays as it is.
 */
import type { Config, ResolvedTarget } from '../config/schema.js';
import type { GeoDbInfo } from '../geo/geo-db.js';

/** Sections read once at start: a reload keeps their running value (and says so). */
export const RESTART_FIELDS = ['vantage', 'server', 'storage', 'blocks'] as const;
export type RestartField = (typeof RESTART_FIELDS)[number];

/** What a reload starts from, and what it loaded: a config and the location databases it opened. */
export interface ReloadSide {
  config: Config;
  /** The open databases' descriptions (GeoDb.country and .asn). */
  geo: { country: GeoDbInfo | null; asn: GeoDbInfo | null };
}

/** What to do with a part: leave it as it is, or hand it the new config. */
export type PartAction = 'keep' | 'update';

export interface ReloadPlan {
  /**
   * The config to run from now on: the new one, but with the restart-only sections (and the
   * storage dir) of the running one, and the running target list itself (the same objects)
   * when the new one is equal to it.
   */
  config: Config;
  /** Restart-only sections the new config changes; they keep their running value. */
  needsRestart: RestartField[];
  /** Running targets whose id the new config no longer has: their series go. */
  removed: ResolvedTarget[];
  /** How many target ids the new config adds. */
  added: number;
  /** The scheduler: updated when the targets or the schedule changed. */
  scheduler: PartAction;
  /** The detector: updated when the targets, the detection settings or the interval changed. */
  detector: PartAction;
  /** The host resolver: replaced when resolver.servers changed. */
  resolver: 'keep' | 'replace';
  /** Whether the location databases changed (they are reopened at every reload, for a newer file at the same path). */
  geoChanged: boolean;
  /**
   * The remote write list, always handed to the remote write stage, which keeps a remote's
   * queue while its name is unchanged, replaces only its sender when its settings change, and
   * retries a remote that could not be opened before.
   */
  remoteWrite: Config['remote_write'];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Decides a reload from the running side and the newly loaded, valid one. */
export function planReload(running: ReloadSide, next: ReloadSide): ReloadPlan {
  const old = running.config;
  const loaded = next.config;
  const needsRestart = RESTART_FIELDS.filter((field) => !same(loaded[field], old[field]));
  const targetsSame = same(loaded.targets, old.targets);
  const targets = targetsSame ? old.targets : loaded.targets;
  const config: Config = { ...loaded, vantage: old.vantage, server: old.server, storage: old.storage, storageDir: old.storageDir, blocks: old.blocks, targets };
  const nextIds = new Set(targets.map((t) => t.id));
  const oldIds = new Set(old.targets.map((t) => t.id));
  const scheduleSame = same(config.schedule, old.schedule);
  return {
    config,
    needsRestart,
    removed: old.targets.filter((t) => !nextIds.has(t.id)),
    added: targets.filter((t) => !oldIds.has(t.id)).length,
    scheduler: targetsSame && scheduleSame ? 'keep' : 'update',
    detector: targetsSame && same(config.detection, old.detection) && config.schedule.interval === old.schedule.interval ? 'keep' : 'update',
    resolver: same(config.resolver?.servers, old.resolver?.servers) ? 'keep' : 'replace',
    geoChanged: !same([next.geo.country, next.geo.asn], [running.geo.country, running.geo.asn]),
    remoteWrite: config.remote_write,
  };
}
