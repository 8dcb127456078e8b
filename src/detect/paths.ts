/**
 * One detector per path (docs/detection.md "Paths"). A target probed through a source binding
 * belongs to that binding's path (`target.path`); unbound targets to the default path "". Each
 * path is judged as if it were a vantage of its own: its own target states, groups, controls and
 * vantage verdict, its own blind periods and events. Two paths' results are never mixed into one
 * verdict: an uplink cut off is that path's vantage_offline, and the other path's events go on.
 *
 * With a single path (every config without `source:`) this is exactly one Detector, and every
 * answer is that detector's answer, unchanged.
 */
import { targetPath, type ResolvedTarget } from '../config/schema.js';
import type { ProbeResult } from '../probers/types.js';
import { Detector, type CountryStatus, type DetectorStatus, type EventChange, type TargetStatus, type VantageState } from './detector.js';
import type { BlockView } from './block-view.js';
import type { DisruptionEvent } from './events.js';
import type { DetectionSettings, DetectorOptions, VantageInfo } from './options.js';

/** One path's own view in the status (present only when some target is bound to a source). */
export interface PathStatus {
  path: string;
  vantage: { online: boolean | null };
  countries: CountryStatus[];
}

/** A target's status, with its path when bound. */
export type PathTargetStatus = TargetStatus & { path?: string };

/**
 * DetectorStatus of the main path (the default route "", else the first path by name), with every
 * path's targets, and `paths` (each path's vantage and countries) once any source is configured.
 */
export interface PathsStatus extends Omit<DetectorStatus, 'targets'> {
  targets: PathTargetStatus[];
  paths?: PathStatus[];
}

/** A path's vantage verdict, for the per-path log lines. */
export type PathVantageState = VantageState & { path: string };

export class PathDetectors {
  private readonly detectors = new Map<string, Detector>();
  /** Target id -> its path's detector. */
  private byTarget = new Map<string, Detector>();
  /** Paths that have targets now. */
  private populated = new Set<string>();
  /** The options of the last constructor or update() call (a path made later takes them). */
  private base: DetectorOptions;

  constructor(opts: DetectorOptions) {
    this.base = opts;
    this.assign(opts.targets, opts.detection, undefined, opts.interval);
  }

  /** Routes the result to its target's path. Unknown targets are ignored. */
  observe(result: ProbeResult): void {
    this.byTarget.get(result.target)?.observe(result);
  }

  /** Evaluates every path; changes path by path (default path first, then by name), each in compareChanges order. */
  evaluate(now: number): EventChange[] {
    const changes: EventChange[] = [];
    for (const d of this.ordered()) changes.push(...d.evaluate(now));
    // A path no longer configured is kept until its events have closed.
    for (const [path, d] of this.detectors) {
      if (path !== '' && !this.populated.has(path) && d.active().length === 0) this.detectors.delete(path);
    }
    return changes;
  }

  /**
   * Block probing's signals go to the default route's detector: the blocks are echoed from it,
   * never through a source binding (docs/detection.md "Block evidence").
   */
  observeBlocks(view: BlockView | null): void {
    this.detector('').observeBlocks(view);
  }

  setGeoMismatch(id: string, mismatch: boolean): void {
    this.byTarget.get(id)?.setGeoMismatch(id, mismatch);
  }

  target(id: string): ResolvedTarget | undefined {
    return this.byTarget.get(id)?.target(id);
  }

  update(targets: readonly ResolvedTarget[], detection: DetectionSettings, vantage?: VantageInfo, interval?: number): void {
    this.assign(targets, detection, vantage, interval);
  }

  /** Hands each stored open event to the detector of its path (a path that no longer exists gets one). */
  resume(open: readonly DisruptionEvent[]): void {
    const byPath = new Map<string, DisruptionEvent[]>();
    for (const e of open) {
      const path = e.path ?? '';
      byPath.set(path, [...(byPath.get(path) ?? []), e]);
    }
    for (const [path, events] of byPath) this.detector(path).resume(events);
  }

  active(): DisruptionEvent[] {
    return this.ordered().flatMap((d) => d.active());
  }

  /** The main path's vantage verdict (see PathsStatus). */
  vantageState(): VantageState {
    return this.main().vantageState();
  }

  /** Every path's vantage verdict, default path first. */
  vantageStates(): PathVantageState[] {
    return this.ordered().map((d) => ({ ...d.vantageState(), path: d.path }));
  }

  /** True once any target is bound to a source. */
  get multiPath(): boolean {
    for (const path of this.detectors.keys()) if (path !== '') return true;
    return false;
  }

  status(): PathsStatus {
    const detectors = this.ordered();
    if (!this.multiPath) return this.main().status();
    const statuses = detectors.map((d) => ({ path: d.path, status: d.status() }));
    const main = statuses.find((s) => s.path === this.main().path)?.status ?? this.main().status();
    return {
      vantage: main.vantage,
      countries: main.countries,
      targets: statuses.flatMap(({ path, status }) => (path === '' ? status.targets : status.targets.map((t) => ({ ...t, path })))),
      paths: statuses.map(({ path, status }) => ({ path, vantage: { online: status.vantage.online }, countries: status.countries })),
    };
  }

  private assign(targets: readonly ResolvedTarget[], detection: DetectionSettings, vantage: VantageInfo | undefined, interval: number | undefined): void {
    this.base = { ...this.base, detection, vantage: vantage ?? this.base.vantage, interval: interval ?? this.base.interval, targets: [] };
    const byPath = new Map<string, ResolvedTarget[]>();
    for (const t of targets) {
      const path = targetPath(t);
      const list = byPath.get(path);
      if (list) list.push(t);
      else byPath.set(path, [t]);
    }
    if (byPath.size === 0) byPath.set('', []);
    for (const path of this.detectors.keys()) if (!byPath.has(path)) byPath.set(path, []);
    this.byTarget = new Map();
    this.populated = new Set();
    for (const [path, list] of byPath) {
      const existing = this.detectors.get(path);
      const d = existing ?? new Detector({ ...this.base, targets: list, path });
      if (existing) existing.update(list, detection, vantage, interval);
      if (list.length > 0) this.populated.add(path);
      this.detectors.set(path, d);
      for (const t of list) this.byTarget.set(t.id, d);
    }
    // The default path always exists while nothing is bound, so a config without targets is still one detector.
    if (byPath.get('')?.length === 0 && byPath.size > 1 && this.detectors.get('')?.active().length === 0) this.detectors.delete('');
  }

  private detector(path: string): Detector {
    let d = this.detectors.get(path);
    if (!d) {
      d = new Detector({ ...this.base, targets: [], path });
      this.detectors.set(path, d);
    }
    return d;
  }

  /** Default path first, then by name. */
  private ordered(): Detector[] {
    return [...this.detectors.entries()].sort(([a], [b]) => (a === b ? 0 : a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)).map(([, d]) => d);
  }

  /** The default path when it has targets (or is the only one), else the first path by name. */
  private main(): Detector {
    const d = this.detectors.get('');
    if (d) return d;
    return this.ordered()[0] ?? this.detector('');
  }
}
