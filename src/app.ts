/**
 * Composition root: wires config, probers, scheduler, metrics and the HTTP server together.
 * start() brings the daemon up, reload() swaps in a new config (or keeps the old one when the
 * new one is invalid), stop() shuts down in a bounded, ordered way. Knows nothing of `process`.
 * What a reload changes is decided by planReload (src/app/reload-plan.ts, pure); the log lines
 * are worded in src/app/log-lines.ts.
 */
import { ConfigError, loadConfig } from './config/load.js';
import type { Config, ResolvedTarget } from './config/schema.js';
import type { EventChange } from './detect/detector.js';
import { PathDetectors } from './detect/paths.js';
import { compareTimeline, type DisruptionEvent } from './detect/events.js';
import type { Logger } from './log.js';
import { registerDetectorMetrics, type DetectorMetrics } from './metrics/detector-metrics.js';
import { createMetrics, type LookoutMetrics } from './metrics/lookout-metrics.js';
import { registerStorageMetrics } from './metrics/storage-metrics.js';
import { runProbe } from './probers/registry.js';
import { createResolver } from './probers/resolver.js';
import type { HostResolver, ProbeResult } from './probers/types.js';
import { startAlignedTicker, type AlignedTicker } from './scheduler/aligned-ticker.js';
import { Scheduler } from './scheduler/scheduler.js';
import { adaptivePolicyFor } from './scheduler/adaptive.js';
import { apiRoutes } from './server/api.js';
import { createServer, type LookoutServer, type ReloadResult } from './server/server.js';
import { EventStore } from './store/event-store.js';
import { GeoCheck, type GeoChange } from './geo/geo-check.js';
import { openGeo } from './geo/geo-config.js';
import type { GeoDb } from './geo/geo-db.js';
import { withGeo } from './geo/geo-status.js';
import { registerGeoMetrics } from './metrics/geo-metrics.js';
import { ResultRecorder } from './store/result-recorder.js';
import { evaluationOf } from './remote/collector.js';
import { RemoteWriteStage } from './remote/stage.js';
import { planReload, type ReloadPlan } from './app/reload-plan.js';
import * as say from './app/log-lines.js';
import { aggregate } from './history/aggregate.js';
import { History } from './history/history.js';
import { HistoryFile } from './history/history-file.js';
import { seriesRoute } from './server/series-api.js';
import { RecentResults } from './page/recent-results.js';
import { pageRoutes } from './page/routes.js';
import { BlocksStage } from './blocks/blocks-stage.js';
import { withBlocks } from './blocks/block-status.js';
import { registerBlockMetrics } from './metrics/block-metrics.js';
import { ChartRenderer } from './chart/renderer.js';
import { reportRoutes } from './report/routes.js';
import { reportContextOf } from './report/report.js';
import { registerWindowMetrics } from './metrics/window-metrics.js';
import { Windows } from './windows/windows.js';
import type { WindowChange } from './windows/window-clock.js';
import { watchIntervals } from './windows/watch.js';
import { EventWindows } from './windows/event-windows.js';

export interface AppOptions {
  configPath: string;
  log: Logger;
  version: string;
  /** Node version label for lookout_build_info. */
  nodeVersion: string;
}

export interface App {
  /** The address the HTTP server listens on. */
  readonly address: { host: string; port: number };
  readonly config: Config;
  /** Loads the config file again; an invalid file keeps the running config. Serialised. */
  reload(): Promise<ReloadResult>;
  /**
   * Stops scheduling, lets in-flight probes finish for up to graceMs (then aborts them) and
   * closes the server. Never rejects.
   */
  stop(graceMs: number): Promise<void>;
}

/** Loads the config and starts the daemon. Rejects with ConfigError on an invalid config. */
export async function startApp(opts: AppOptions): Promise<App> {
  const config = await loadConfig(opts.configPath);
  const geo = await openGeo(config);
  let daemon: Daemon | null = null;
  const parts = await openParts(opts, config, geo.db, {
    targets: () => daemon?.config.targets ?? config.targets,
    inFlight: () => daemon?.inFlight ?? 0,
  });
  say.logGeo(opts.log, geo.db, geo.paths);
  daemon = new Daemon(opts, config, parts);
  await daemon.start();
  return daemon;
}

/** The parts that live as long as the daemon, opened before the first probe. */
interface Parts {
  readonly metrics: LookoutMetrics;
  readonly events: EventStore;
  readonly recorder: ResultRecorder | null;
  /** One detector per path (source binding): see src/detect/paths.ts. */
  readonly detector: PathDetectors;
  readonly detectorMetrics: DetectorMetrics;
  readonly remoteWrite: RemoteWriteStage;
  readonly geo: GeoCheck;
  /** The 1-minute history, put back from its files, fed at each evaluation (src/history/). */
  readonly history: History;
  readonly historyFile: HistoryFile;
  /** The last few results of each target, for the status page. */
  readonly recent: RecentResults;
  /** Block probing (docs/blocks.md): null without a `blocks:` section. */
  readonly blocks: BlocksStage | null;
  /** The windows events opened in (expected, maintenance). */
  readonly eventWindows: EventWindows;
}

/** Opens the metrics, the event store (resuming its open events), the recorder, remote write and the location check. */
async function openParts(opts: AppOptions, config: Config, geoDb: GeoDb, live: { targets: () => readonly ResolvedTarget[]; inFlight: () => number }): Promise<Parts> {
  const { log } = opts;
  const metrics = createMetrics({ vantage: config.vantage.id, version: opts.version, nodeVersion: opts.nodeVersion, ...live });
  let store: EventStore | null = null;
  const storageMetrics = registerStorageMetrics(metrics.registry, () => store?.status() ?? null);
  store = await EventStore.open({ dir: config.storageDir, log, onError: (op) => storageMetrics.error(op) });
  const events: EventStore = store;
  const recorder = config.storage.record_results ? await ResultRecorder.open(config.storageDir, log, { vantage: config.vantage }) : null;
  const detector = new PathDetectors({ detection: config.detection, vantage: config.vantage, targets: config.targets, interval: config.schedule.interval });
  const resumed = events.open();
  detector.resume(resumed);
  const eventWindows = new EventWindows();
  eventWindows.resume(resumed);
  say.logResumed(log, resumed);
  const detectorMetrics = registerDetectorMetrics(metrics.registry, () => detector);
  // Opened before the first probe so that no result is missed; resumes each remote's backlog.
  const remoteWrite = await RemoteWriteStage.start({ remotes: config.remote_write, storageDir: config.storageDir, vantage: config.vantage.id, registry: metrics.registry, log });
  // A bad hitlist or exclude file fails the start.
  let blocks: BlocksStage | null = null;
  try {
    blocks = config.blocks ? await BlocksStage.start({ config: config.blocks, storageDir: config.storageDir, log }) : null;
  } catch (err) {
    await Promise.all([events.close(), recorder?.close(), remoteWrite.stop(0)]);
    throw err;
  }
  const blockStage = blocks;
  if (blockStage && config.blocks) registerBlockMetrics(metrics.registry, () => blockStage.snapshot(), config.blocks.shard);
  const geo = new GeoCheck(geoDb);
  registerGeoMetrics(metrics.registry, live.targets, geo);
  const history = new History({ onMinute: (minute) => historyFile.append(minute) });
  const historyFile = await HistoryFile.open(config.storageDir, history, log, Date.now());
  const recent = new RecentResults();
  return { metrics, events, recorder, detector, detectorMetrics, remoteWrite, geo, history, historyFile, recent, blocks, eventWindows };
}

/** The running daemon: the parts, the scheduler and server on top of them, and what a reload replaces. */
class Daemon implements App {
  address = { host: '', port: 0 };
  /** The running config; a reload replaces it with its plan's. */
  private running: Config;
  /** Built from the running config's resolver section. */
  private resolver: HostResolver;
  private ready = false;
  private reloading: Promise<ReloadResult> = Promise.resolve({ ok: true, problems: [] });
  private stopping: Promise<void> | null = null;
  private evaluator: AlignedTicker | null = null;
  /** Counts evaluations: the status page is rendered again only when it moved. */
  private generation = 0;
  /** Each path's vantage verdict, as last logged: the log says what the gauge and the API say. */
  private readonly online = new Map<string, boolean>();
  private readonly scheduler: Scheduler;
  private readonly server: LookoutServer;
  /** Draws the page's country charts and the event reports, in a worker thread. */
  private readonly charts = new ChartRenderer();
  /** The windows of the running config, moved by the scheduler's per-second ticker. */
  private readonly windows: Windows;

  constructor(
    private readonly opts: AppOptions,
    config: Config,
    private readonly parts: Parts,
  ) {
    const { log } = opts;
    const { metrics, detector, events, geo, history, recent, blocks, eventWindows } = parts;
    this.running = config;
    this.resolver = createResolver(config.resolver?.servers);
    // A watch window opening or closing changes its countries' intervals; an expected one
    // closing on events still open says that the announced cut overran.
    const windows = new Windows(config.windows, log, (change) => this.windowChanged(change));
    this.windows = windows;
    registerWindowMetrics(metrics.registry, () => windows.summary(), () => detector.active().map((e) => eventWindows.annotate(e)));
    // Stored events with the open ones as the detector sees them now, marked with their windows.
    const eventsNow = (): DisruptionEvent[] => timeline(events.all(), detector.active().map((e) => eventWindows.annotate(e)));
    this.scheduler = new Scheduler({
      schedule: config.schedule,
      // The scheduler marks confirm re-probes on the result itself.
      probe: (target, signal, timeoutMs) => {
        const resolver = this.resolver;
        return runProbe(target, target.bind ? { timeoutMs, signal, resolver, source: target.bind } : { timeoutMs, signal, resolver });
      },
      onResult: (result, target) => this.onResult(result, target),
      onSkip: (target) => {
        metrics.probeSkipped(target);
        log.warn({ target: target.id }, 'probe skipped: previous probe of this target still running');
      },
      onLag: (seconds) => metrics.schedulerLag(seconds),
      onExtra: (_target, cause) => metrics.adaptiveProbe(cause),
      onSecond: (now) => windows.tick(now),
      log,
    });
    this.scheduler.setAdaptive(adaptivePolicyFor(config));
    this.server = createServer({
      listen: config.server.listen,
      adminToken: config.server.admin_token,
      registry: metrics.registry,
      ready: () => this.ready,
      reload: () => this.reload(),
      log,
      routes: {
        ...apiRoutes({ events: eventsNow, status: () => ({ ...withBlocks(withGeo(detector.status(), geo, detector), blocks?.snapshot() ?? null), windows: windows.status() }) }),
        '/api/v1/series': seriesRoute(history),
      },
      rawRoutes: pageRoutes(
        {
          vantageId: config.vantage.id,
          status: () => detector.status(),
          vantageStates: () => detector.vantageStates(),
          events: eventsNow,
          target: (id) => detector.target(id),
          recent,
          refreshSeconds: Math.max(1, Math.round(config.detection.evaluate_every / 1000)),
          now: Date.now,
        },
        () => this.generation,
      ),
      // The country charts of the page and the event reports, drawn in the renderer's worker.
      prefixRoutes: reportRoutes({
        events: eventsNow,
        series: history,
        context: () => reportContextOf(this.running),
        renderer: this.charts,
        now: Date.now,
      }),
    });
  }

  get config(): Config {
    return this.running;
  }

  get inFlight(): number {
    return this.scheduler.inFlight;
  }

  /** Listens (closing the parts again when it cannot), then starts evaluating and probing. */
  async start(): Promise<void> {
    const { events, recorder, remoteWrite, metrics, historyFile, blocks } = this.parts;
    try {
      this.address = await this.server.listen();
    } catch (err) {
      await Promise.all([events.close(), recorder?.close(), remoteWrite.stop(0), historyFile.close(), blocks?.stop(), this.charts.close()]);
      throw err;
    }
    metrics.configReload(true);
    this.evaluator = startAlignedTicker(
      () => this.running.detection.evaluate_every,
      (at) => this.evaluate(at),
    );
    const { targets } = this.running;
    this.scheduler.start(targets);
    // Knowing at once whether this vantage is online matters more than the controls' slots.
    this.scheduler.probeNow(say.controlIds(targets));
    this.ready = true;
    say.logStarted(this.opts.log, this.running, this.address);
  }

  reload(): Promise<ReloadResult> {
    const once = (): Promise<ReloadResult> => this.reloadOnce();
    this.reloading = this.reloading.then(once, once);
    return this.reloading;
  }

  stop(graceMs: number): Promise<void> {
    this.stopping ??= this.stopOnce(graceMs);
    return this.stopping;
  }

  private async stopOnce(graceMs: number): Promise<void> {
    const { log } = this.opts;
    const { events, recorder, remoteWrite, history, historyFile, blocks } = this.parts;
    this.ready = false;
    const outcome = await this.scheduler.stop(graceMs);
    log.info(outcome, 'scheduler stopped');
    this.evaluator?.stop();
    this.windows.dispose();
    // The minute being recorded is kept too: a restart within it carries on from there.
    const unfinished = history.unfinished();
    if (unfinished) historyFile.append(unfinished);
    // Open events stay open in the store: the next start resumes or closes them. close()
    // writes what is still queued (one last try when the disk is failing). The remote
    // write queues take what was appended; a send in flight gets a second at most.
    await Promise.all([events.close(), recorder?.close(), remoteWrite.stop(Math.min(graceMs, 1000)), historyFile.close(), blocks?.stop(), this.charts.close()]);
    await this.server.close(Math.min(graceMs, 1000));
    log.info('lookout stopped');
  }

  private async reloadOnce(): Promise<ReloadResult> {
    const { log, configPath } = this.opts;
    let next: Config;
    let nextGeo: Awaited<ReturnType<typeof openGeo>>;
    try {
      next = await loadConfig(configPath);
      // Always reopened: a newer database dropped in at the same path is taken by a reload.
      nextGeo = await openGeo(next);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.parts.metrics.configReload(false);
      say.logReloadFailed(log, configPath, err.problems);
      return { ok: false, problems: err.problems };
    }
    const plan = planReload({ config: this.running, geo: this.parts.geo.db }, { config: next, geo: nextGeo.db });
    say.logNeedsRestart(log, plan);
    if (plan.geoChanged) say.logGeo(log, nextGeo.db, nextGeo.paths);
    await this.apply(plan, nextGeo.db);
    this.parts.metrics.configReload(true);
    say.logReloaded(log, configPath, plan);
    return { ok: true, problems: [] };
  }

  /** Carries out a reload plan. */
  private async apply(plan: ReloadPlan, geoDb: GeoDb): Promise<void> {
    const { metrics, detector, geo, remoteWrite } = this.parts;
    const { config } = plan;
    for (const old of plan.removed) metrics.forgetTarget(old);
    this.running = config;
    this.windows.update(config.windows);
    this.parts.recent.retain(new Set(config.targets.map((t) => t.id)));
    if (plan.resolver === 'replace') this.resolver = createResolver(config.resolver?.servers);
    if (plan.detector === 'update') detector.update(config.targets, config.detection, undefined, config.schedule.interval);
    geo.setDb(geoDb);
    // A corrected catalog or a newer database takes effect now, not at each target's next probe.
    for (const moved of geo.rebase(config.targets)) this.geoMoved(moved);
    if (plan.scheduler === 'update') this.scheduler.update(config.targets, config.schedule);
    // The policy's group index and sample sizes follow the targets and the detection settings;
    // extras still queued in the old policy are dropped.
    if (plan.scheduler === 'update' || plan.detector === 'update') this.scheduler.setAdaptive(adaptivePolicyFor(config));
    this.applyWatch();
    await remoteWrite.reload(plan.remoteWrite);
  }

  private windowChanged(change: WindowChange): void {
    this.applyWatch();
    if (change.type !== 'closed' || change.window.kind !== 'expected') return;
    const { detector, eventWindows } = this.parts;
    for (const event of eventWindows.overran(change.window.name, detector.active())) say.logOverran(this.opts.log, change.window.name, event);
  }

  /** The open watch windows' intervals, to the scheduler. */
  private applyWatch(): void {
    this.scheduler.overrideIntervals(watchIntervals(this.windows.active(), this.running.targets));
  }

  private onResult(result: ProbeResult, target: ResolvedTarget): void {
    const { metrics, remoteWrite, recorder, geo, detector } = this.parts;
    const { log } = this.opts;
    metrics.recordProbe(result, target);
    remoteWrite.collector.probe(result, target);
    recorder?.write(result);
    this.parts.recent.observe(result);
    const moved = geo.observe(result, target);
    if (moved) this.geoMoved(moved);
    detector.observe(result);
    // Per-probe path: build the log fields only when debug logging is on.
    if (!result.ok && log.isLevelEnabled('debug')) {
      log.debug({ target: target.id, reason: result.reason, detail: result.detail, confirm: result.confirm }, 'probe failed');
    }
  }

  private geoMoved(moved: GeoChange): void {
    this.parts.detector.setGeoMismatch(moved.target, moved.verdict.mismatch !== null);
    say.logGeoChange(this.opts.log, moved);
  }

  private evaluate(at: number): void {
    const { detector, remoteWrite, history, blocks } = this.parts;
    if (blocks) detector.observeBlocks(blocks.evidence());
    for (const change of detector.evaluate(at)) this.onChange(change);
    history.record(at, aggregate(detector.status().targets));
    this.generation++;
    remoteWrite.evaluation(at, () => evaluationOf(detector));
    for (const vantage of detector.vantageStates()) {
      if (vantage.online !== null && vantage.online !== this.online.get(vantage.path)) say.logVantage(this.opts.log, vantage);
      if (vantage.online !== null) this.online.set(vantage.path, vantage.online);
    }
  }

  // The store keeps events in order and holds them in memory while the disk fails (it logs
  // that itself); only a dropped or unwritten-at-shutdown event rejects here.
  private onChange(change: EventChange): void {
    const { eventWindows } = this.parts;
    if (change.type === 'opened') eventWindows.opened(change.event, this.windows.active());
    const event = eventWindows.annotate(change.event);
    if (change.type === 'closed') eventWindows.closed(event.id);
    if (change.type === 'opened') this.parts.detectorMetrics.opened(event);
    say.logEventChange(this.opts.log, change.type, event);
    this.parts.events.record(event).catch((err: unknown) => this.opts.log.error({ err, event: event.id }, 'event could not be stored'));
  }
}

/** Stored events with the open ones replaced by the detector's current view (fresher evidence). */
function timeline(stored: readonly DisruptionEvent[], active: readonly DisruptionEvent[]): DisruptionEvent[] {
  const byId = new Map(stored.map((e) => [e.id, e]));
  for (const e of active) byId.set(e.id, e);
  return [...byId.values()].sort(compareTimeline);
}
