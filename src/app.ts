/**
 * Composition root: wires config, probers, scheduler, metrics and the HTTP server together.
 * start() brings the daemon up, reload() swaps in a new config (or keeps the old one when the
 * new one is invalid), stop() shuts down in a bounded, ordered way. Knows nothing of `process`.
 */
import { ConfigError, loadConfig } from './config/load.js';
import { targetPath, type Config, type ResolvedTarget } from './config/schema.js';
import type { EventChange } from './detect/detector.js';
import { PathDetectors, type PathVantageState } from './detect/paths.js';
import { compareTimeline, type DisruptionEvent } from './detect/events.js';
import type { Logger } from './log.js';
import { registerDetectorMetrics } from './metrics/detector-metrics.js';
import { createMetrics, type LookoutMetrics } from './metrics/registry.js';
import { registerStorageMetrics } from './metrics/storage-metrics.js';
import { runProbe } from './probers/registry.js';
import { createResolver } from './probers/resolver.js';
import type { HostResolver, ProbeResult } from './probers/types.js';
import { startAlignedTicker } from './scheduler/aligned-ticker.js';
import { Scheduler } from './scheduler/scheduler.js';
import { adaptivePolicyFor } from './scheduler/adaptive.js';
import { apiRoutes } from './server/api.js';
import { createServer } from './server/server.js';
import { EventStore } from './store/event-store.js';
import { GeoCheck, type GeoChange } from './geo/geo-check.js';
import { openGeo, type GeoPaths } from './geo/geo-config.js';
import type { GeoDb } from './geo/geo-db.js';
import { withGeo } from './geo/geo-status.js';
import { registerGeoMetrics } from './metrics/geo-metrics.js';
import { ResultRecorder } from './store/result-recorder.js';
import { RemoteWriteStage } from './remote/stage.js';

export interface AppOptions {
  configPath: string;
  log: Logger;
  version: string;
  /** Node version label for lookout_build_info. */
  nodeVersion: string;
}

export interface ReloadOutcome {
  ok: boolean;
  problems: string[];
}

export interface App {
  /** The address the HTTP server listens on. */
  readonly address: { host: string; port: number };
  readonly config: Config;
  /** Loads the config file again; an invalid file keeps the running config. Serialised. */
  reload(): Promise<ReloadOutcome>;
  /**
   * Stops scheduling, lets in-flight probes finish for up to graceMs (then aborts them) and
   * closes the server. Never rejects.
   */
  stop(graceMs: number): Promise<void>;
}

/** Loads the config and starts the daemon. Rejects with ConfigError on an invalid config. */
export async function startApp(opts: AppOptions): Promise<App> {
  const { log } = opts;
  let config = await loadConfig(opts.configPath);
  const geoOpened = await openGeo(config);
  let targets: ResolvedTarget[] = config.targets;
  let resolver: HostResolver = createResolver(config.resolver?.servers);
  let ready = false;

  const metrics: LookoutMetrics = createMetrics({
    vantage: config.vantage.id,
    version: opts.version,
    nodeVersion: opts.nodeVersion,
    targets: () => targets,
    inFlight: () => scheduler.inFlight,
  });
  let store: EventStore | null = null;
  const storageMetrics = registerStorageMetrics(metrics.registry, () => store?.status() ?? null);
  store = await EventStore.open({ dir: config.storageDir, log, onError: (op) => storageMetrics.error(op) });
  const events: EventStore = store;
  const recorder = config.storage.record_results ? await ResultRecorder.open(config.storageDir, log) : null;
  // One detector per path (source binding): see src/detect/paths.ts.
  const detector = new PathDetectors({ detection: config.detection, vantage: config.vantage, targets, interval: config.schedule.interval });
  const resumed = events.open();
  detector.resume(resumed);
  if (resumed.length > 0) log.info({ events: resumed.map((e) => e.id) }, 'resuming events still open at the last shutdown');
  const detectorMetrics = registerDetectorMetrics(metrics.registry, () => detector);
  // Opened before the first probe so that no result is missed; resumes each remote's backlog.
  const remoteWrite = await RemoteWriteStage.start({
    remotes: config.remote_write,
    storageDir: config.storageDir,
    vantage: config.vantage.id,
    registry: metrics.registry,
    log,
  });
  const geo = new GeoCheck(geoOpened.db);
  registerGeoMetrics(metrics.registry, () => targets, geo);
  logGeo(log, geoOpened.db, geoOpened.paths);

  const onResult = (result: ProbeResult, target: ResolvedTarget): void => {
    metrics.recordProbe(result, target);
    remoteWrite.collector.probe(result, target);
    recorder?.write(result);
    const moved = geo.observe(result, target);
    if (moved) {
      detector.setGeoMismatch(moved.target, moved.verdict.mismatch !== null);
      logGeoChange(log, moved);
    }
    detector.observe(result);
    // Per-probe path: build the log fields only when debug logging is on.
    if (!result.ok && log.isLevelEnabled('debug')) {
      log.debug({ target: target.id, reason: result.reason, detail: result.detail, confirm: result.confirm }, 'probe failed');
    }
  };

  // The store keeps events in order and holds them in memory while the disk fails (it logs
  // that itself); only a dropped or unwritten-at-shutdown event rejects here.
  const onChange = (change: EventChange): void => {
    const { event } = change;
    if (change.type === 'opened') {
      detectorMetrics.opened(event);
      log.warn(eventFields(event), 'disruption opened');
    } else {
      log.info(eventFields(event), 'disruption closed');
    }
    events.record(event).catch((err: unknown) => log.error({ err, event: event.id }, 'event could not be stored'));
  };

  const scheduler = new Scheduler({
    schedule: config.schedule,
    // The scheduler marks confirm re-probes on the result itself.
    probe: (target, signal, timeoutMs) => runProbe(target, target.bind ? { timeoutMs, signal, resolver, source: target.bind } : { timeoutMs, signal, resolver }),
    onResult,
    onSkip: (target) => {
      metrics.probeSkipped(target);
      log.warn({ target: target.id }, 'probe skipped: previous probe of this target still running');
    },
    onLag: (seconds) => metrics.schedulerLag(seconds),
    onExtra: (_target, cause) => metrics.adaptiveProbe(cause),
    log,
  });
  scheduler.setAdaptive(adaptivePolicyFor(config));

  let reloading: Promise<ReloadOutcome> = Promise.resolve({ ok: true, problems: [] });
  const reloadOnce = async (): Promise<ReloadOutcome> => {
    let next: Config;
    let nextGeo: typeof geoOpened;
    try {
      next = await loadConfig(opts.configPath);
      // Always reopened: a newer database dropped in at the same path is taken by a reload.
      nextGeo = await openGeo(next);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      metrics.configReload(false);
      log.error({ path: opts.configPath, problems: err.problems }, 'config reload failed; keeping the running config');
      return { ok: false, problems: err.problems };
    }
    for (const field of ['vantage', 'server', 'storage'] as const) {
      if (JSON.stringify(next[field]) !== JSON.stringify(config[field])) {
        log.warn({ field }, 'config change needs a restart to take effect; running with the old value');
      }
    }
    const nextIds = new Set(next.targets.map((t) => t.id));
    const oldIds = new Set(targets.map((t) => t.id));
    const gone = targets.filter((t) => !nextIds.has(t.id));
    for (const old of gone) metrics.forgetTarget(old);
    const added = next.targets.filter((t) => !oldIds.has(t.id)).length;
    const removed = gone.length;
    config = { ...next, vantage: config.vantage, server: config.server, storage: config.storage, storageDir: config.storageDir };
    targets = next.targets;
    resolver = createResolver(config.resolver?.servers);
    detector.update(targets, config.detection, undefined, config.schedule.interval);
    if (describeGeo(nextGeo.db) !== describeGeo(geo.db)) logGeo(log, nextGeo.db, nextGeo.paths);
    geo.setDb(nextGeo.db);
    // A corrected catalog or a newer database takes effect now, not at each target's next probe.
    for (const moved of geo.rebase(targets)) {
      detector.setGeoMismatch(moved.target, moved.verdict.mismatch !== null);
      logGeoChange(log, moved);
    }
    scheduler.update(targets, config.schedule);
    scheduler.setAdaptive(adaptivePolicyFor(config));
    // A remote whose name is unchanged keeps its queue and backlog.
    await remoteWrite.reload(config.remote_write);
    metrics.configReload(true);
    log.info({ path: opts.configPath, targets: targets.length, added, removed }, 'config reloaded');
    return { ok: true, problems: [] };
  };

  const server = createServer({
    listen: config.server.listen,
    adminToken: config.server.admin_token,
    registry: metrics.registry,
    ready: () => ready,
    reload: () => app.reload(),
    log,
    routes: apiRoutes({ events: () => timeline(events.all(), detector.active()), status: () => withGeo(detector.status(), geo, detector) }),
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (err) {
    await Promise.all([events.close(), recorder?.close(), remoteWrite.stop(0)]);
    throw err;
  }
  metrics.configReload(true);
  // Each path's vantage verdict, as last logged: the log says what the gauge and the API say.
  const online = new Map<string, boolean>();
  const evaluator = startAlignedTicker(
    () => config.detection.evaluate_every,
    (at) => {
      for (const change of detector.evaluate(at)) onChange(change);
      remoteWrite.evaluation(at, () => {
        const status = detector.status();
        const paths = status.paths ?? [{ path: '', vantage: status.vantage, countries: status.countries }];
        return { paths: paths.map((p) => ({ path: p.path, online: p.vantage.online, countries: p.countries })), active: detector.active() };
      });
      for (const vantage of detector.vantageStates()) {
        if (vantage.online !== null && vantage.online !== online.get(vantage.path)) logVantage(log, vantage);
        if (vantage.online !== null) online.set(vantage.path, vantage.online);
      }
    },
  );
  scheduler.start(targets);
  // Knowing at once whether this vantage is online matters more than the controls' slots.
  scheduler.probeNow(controlIds(targets));
  ready = true;
  log.info(
    {
      vantage: config.vantage.id,
      listen: `${address.host}:${address.port}`,
      targets: targets.length,
      controls: controlIds(targets).length,
      interval_ms: config.schedule.interval,
    },
    'lookout started',
  );
  if (controlIds(targets).length === 0) {
    log.warn('no control targets configured: the daemon cannot tell its own outage from a real one');
  } else {
    // Each path is its own vantage (src/detect/paths.ts): one without controls cannot tell its uplink failing from an outage.
    const paths = new Set(targets.map(targetPath));
    for (const t of targets) if (t.control) paths.delete(targetPath(t));
    for (const path of paths) log.warn({ path }, 'no control targets on this path: bind the controls through this source too');
  }

  let stopping: Promise<void> | null = null;
  const app: App = {
    address,
    get config() {
      return config;
    },
    reload() {
      reloading = reloading.then(reloadOnce, reloadOnce);
      return reloading;
    },
    stop(graceMs) {
      stopping ??= (async () => {
        ready = false;
        const outcome = await scheduler.stop(graceMs);
        log.info(outcome, 'scheduler stopped');
        evaluator.stop();
        // Open events stay open in the store: the next start resumes or closes them. close()
        // writes what is still queued (one last try when the disk is failing). The remote
        // write queues take what was appended; a send in flight gets a second at most.
        await Promise.all([events.close(), recorder?.close(), remoteWrite.stop(Math.min(graceMs, 1000))]);
        await server.close(Math.min(graceMs, 1000));
        log.info('lookout stopped');
      })();
      return stopping;
    },
  };
  return app;
}

/** Stored events with the open ones replaced by the detector's current view (fresher evidence). */
function timeline(stored: readonly DisruptionEvent[], active: readonly DisruptionEvent[]): DisruptionEvent[] {
  const byId = new Map(stored.map((e) => [e.id, e]));
  for (const e of active) byId.set(e.id, e);
  return [...byId.values()].sort(compareTimeline);
}

function eventFields(e: DisruptionEvent): Record<string, unknown> {
  return { event: e.id, kind: e.kind, country: e.country, asn: e.asn, category: e.category, mechanism: e.mechanism, summary: e.summary };
}

function controlIds(targets: readonly ResolvedTarget[]): string[] {
  return targets.filter((t) => t.control).map((t) => t.id);
}

/** The databases in use, to tell whether a reload changed them. */
function describeGeo(db: GeoDb): string {
  return JSON.stringify([db.country, db.asn]);
}

function logGeo(log: Logger, db: GeoDb, paths: GeoPaths): void {
  if (db.country !== null) log.info({ db: db.country.path, built: db.country.built }, 'location check on: country database');
  else log.warn({ why: paths.countryOff }, 'location check off: no country database, targets are taken to be where their catalogs say');
  if (db.asn !== null) log.info({ db: db.asn.path, built: db.asn.built }, 'location check on: ASN database');
  else log.info('ASN location check off: no geo.asn_db');
}

function logGeoChange(log: Logger, c: GeoChange): void {
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

function logVantage(log: Logger, v: PathVantageState): void {
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
