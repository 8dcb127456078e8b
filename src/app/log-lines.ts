/**
 * The daemon's log lines about itself (start, reload, vantage verdicts, events, the location
 * check): fixed messages with the details as fields. Operators and tests read these messages;
 * src/app.ts decides when, this module says what.
 */
import { targetPath, type Config, type ResolvedTarget } from '../config/schema.js';
import type { DisruptionEvent } from '../detect/events.js';
import type { PathVantageState } from '../detect/paths.js';
import type { GeoChange } from '../geo/geo-check.js';
import type { GeoPaths } from '../geo/geo-config.js';
import type { GeoDb } from '../geo/geo-db.js';
import type { Logger } from '../log.js';
import type { ReloadPlan } from './reload-plan.js';

/** The ids of the control targets. */
export function controlIds(targets: readonly ResolvedTarget[]): string[] {
  return targets.filter((t) => t.control).map((t) => t.id);
}

export function logStarted(log: Logger, config: Config, address: { host: string; port: number }): void {
  const { targets } = config;
  const controls = controlIds(targets).length;
  log.info(
    { vantage: config.vantage.id, listen: `${address.host}:${address.port}`, targets: targets.length, controls, interval_ms: config.schedule.interval },
    'lookout started',
  );
  if (controls === 0) {
    log.warn('no control targets configured: the daemon cannot tell its own outage from a real one');
    return;
  }
  // Each path is its own vantage (src/detect/paths.ts): one without controls cannot tell its uplink failing from an outage.
  const paths = new Set(targets.map(targetPath));
  for (const t of targets) if (t.control) paths.delete(targetPath(t));
  for (const path of paths) log.warn({ path }, 'no control targets on this path: bind the controls through this source too');
}

export function logResumed(log: Logger, resumed: readonly DisruptionEvent[]): void {
  if (resumed.length > 0) log.info({ events: resumed.map((e) => e.id) }, 'resuming events still open at the last shutdown');
}

export function logReloadFailed(log: Logger, configPath: string, problems: readonly string[]): void {
  log.error({ path: configPath, problems }, 'config reload failed; keeping the running config');
}

/** Before the plan is applied: the sections that keep their running value until a restart. */
export function logNeedsRestart(log: Logger, plan: ReloadPlan): void {
  for (const field of plan.needsRestart) log.warn({ field }, 'config change needs a restart to take effect; running with the old value');
}

/** After the plan is applied. */
export function logReloaded(log: Logger, configPath: string, plan: ReloadPlan): void {
  log.info({ path: configPath, targets: plan.config.targets.length, added: plan.added, removed: plan.removed.length }, 'config reloaded');
}

export function logEventChange(log: Logger, type: 'opened' | 'closed', e: DisruptionEvent): void {
  const fields = { event: e.id, kind: e.kind, country: e.country, asn: e.asn, category: e.category, mechanism: e.mechanism, summary: e.summary, expected: e.expected, maintenance: e.maintenance };
  if (type === 'opened') log.warn(fields, 'disruption opened');
  else log.info(fields, 'disruption closed');
}

/** An `expected` window ended while an event that opened inside it is still open (issue 25). */
export function logOverran(log: Logger, window: string, e: DisruptionEvent): void {
  log.warn({ window, event: e.id, kind: e.kind, country: e.country, asn: e.asn, category: e.category, started_at: e.started_at }, 'expected window ended with the disruption still open: the announced cut overran');
}

export function logGeo(log: Logger, db: GeoDb, paths: GeoPaths): void {
  if (db.country !== null) log.info({ db: db.country.path, built: db.country.built }, 'location check on: country database');
  else log.warn({ why: paths.countryOff }, 'location check off: no country database, targets are taken to be where their catalogs say');
  if (db.asn !== null) log.info({ db: db.asn.path, built: db.asn.built }, 'location check on: ASN database');
  else log.info('ASN location check off: no geo.asn_db');
}

export function logGeoChange(log: Logger, c: GeoChange): void {
  const fields = {
    target: c.target,
    ip: c.verdict.ip,
    declared_country: c.declared.country,
    declared_asn: c.declared.asn,
    located_country: c.verdict.country,
    located_asn: c.verdict.asn,
    mismatch: c.verdict.mismatch,
  };
  if (c.verdict.mismatch !== null) log.warn(fields, 'target answers from outside its declared location');
  else log.warn(fields, 'target answers from its declared location again');
}

export function logVantage(log: Logger, v: PathVantageState): void {
  // The default path's lines are as they always were; a source's name its path.
  const path = v.path === '' ? {} : { path: v.path };
  if (v.online === false) {
    log.warn(
      { ...path, controls: v.controls, failing: v.failing, reasons: v.reasons },
      'controls unreachable: this vantage point appears to have no internet connectivity',
    );
  } else {
    log.info({ ...path, controls: v.controls, failing: v.failing }, 'controls reachable');
  }
}
