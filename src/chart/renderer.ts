/**
 * Renders chart specs (src/chart/spec.ts) to SVG or PNG in a worker thread, never on the
 * daemon's event loop: Vega-Lite compiles the spec, Vega's headless view draws it to SVG
 * (`view.toSVG()`), and resvg rasterises that SVG to PNG with the DejaVu Sans font shipped in
 * the `dejavu-fonts-ttf` package (resvg is told to load no system font: the container has none,
 * and a chart must look the same everywhere).
 *
 * The work is bounded: one render at a time, at most `maxQueue` waiting (beyond: RenderBusyError,
 * which the HTTP layer answers 503), each given `timeoutMs` (beyond: the worker is terminated and
 * the next render gets a new one), the worker's heap capped, and the worker ended after
 * `idleMs` without work. Results are kept in a small cache by the caller's key (bounded in
 * entries and bytes); the same key asked for while it renders shares that render.
 *
 * The worker's program is workerMain below, sent as source text (eval, as in
 * src/remote/transport.ts): it uses nothing from this module's scope and imports the libraries
 * by the paths this module resolves, so the same code runs from the TypeScript sources (tests)
 * and from dist/.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as WorkerThreads from 'node:worker_threads';
import type * as ResvgJs from '@resvg/resvg-js';
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

export type ChartFormat = 'svg' | 'png';

export interface RendererOptions {
  /** Longest one render may take; default 15 s. */
  timeoutMs?: number;
  /** Renders waiting behind the running one, at most; default 8. */
  maxQueue?: number;
  /** Cached results, at most; default 32 (and at most 16 MiB in all). */
  cacheEntries?: number;
  /** The worker is ended after this long without work; default 2 min. */
  idleMs?: number;
  /** PNG pixels per SVG pixel; default 2 (sharp enough to publish). */
  pngScale?: number;
}

/** One render: `spec` is only called on a cache miss. */
export interface RenderJob {
  /** Identifies the result: the same key gives the cached bytes without building the spec. */
  key: string;
  format: ChartFormat;
  spec: () => TopLevelSpec;
}

/** Too many renders waiting: try again later. */
export class RenderBusyError extends Error {
  readonly code = 'LOOKOUT_RENDER_BUSY';
}

/** A render failed or timed out; the message says which. */
export class RenderError extends Error {
  readonly code = 'LOOKOUT_RENDER_FAILED';
}

interface ToWorker {
  id: number;
  format: ChartFormat;
  /** The spec to draw, or for a PNG the SVG already drawn for the same key (only rasterised). */
  spec: TopLevelSpec | null;
  svg: string | null;
}

type FromWorker = { id: number; ok: true; body: Uint8Array } | { id: number; ok: false; error: string };

interface Waiting {
  job: RenderJob;
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
}

const CACHE_BYTES = 16 * 1024 * 1024;
const requireHere = createRequire(import.meta.url);
const setup = {
  vega: pathToFileURL(requireHere.resolve('vega')).href,
  vegaLite: pathToFileURL(requireHere.resolve('vega-lite')).href,
  resvg: requireHere.resolve('@resvg/resvg-js'),
  font: requireHere.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  pngScale: 2,
};

export class ChartRenderer {
  private worker: Worker | null = null;
  private running: { id: number; waiting: Waiting; timer: NodeJS.Timeout } | null = null;
  private readonly queue: Waiting[] = [];
  private readonly cache = new Map<string, Buffer>();
  private cacheBytes = 0;
  private readonly inFlight = new Map<string, Promise<Buffer>>();
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly cacheEntries: number;
  private readonly idleMs: number;
  private readonly pngScale: number;

  constructor(opts: RendererOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.maxQueue = opts.maxQueue ?? 8;
    this.cacheEntries = opts.cacheEntries ?? 32;
    this.idleMs = opts.idleMs ?? 120_000;
    this.pngScale = opts.pngScale ?? 2;
  }

  /** The chart's bytes (SVG text as UTF-8, or PNG); rejects with RenderBusyError or RenderError. */
  render(job: RenderJob): Promise<Buffer> {
    const cacheKey = `${job.format}:${job.key}`;
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined) {
      // Refreshed as most recently used.
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, hit);
      return Promise.resolve(hit);
    }
    const shared = this.inFlight.get(cacheKey);
    if (shared !== undefined) return shared;
    if (this.closed) return Promise.reject(new RenderError('the chart renderer is closed'));
    if (this.queue.length >= this.maxQueue) return Promise.reject(new RenderBusyError(`${this.queue.length} charts are waiting to be drawn; try again shortly`));
    const promise = new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
    }).then(
      (body) => {
        this.inFlight.delete(cacheKey);
        this.remember(cacheKey, body);
        return body;
      },
      (err: unknown) => {
        this.inFlight.delete(cacheKey);
        throw err;
      },
    );
    this.inFlight.set(cacheKey, promise);
    this.pump();
    return promise;
  }

  /** Starts the worker (and its library loading) ahead of the first render, e.g. while data is read. */
  warm(): void {
    if (this.closed || this.worker !== null) return;
    this.startWorker();
    if (this.running === null && this.queue.length === 0) {
      this.idleTimer = setTimeout(() => void this.stopWorker(), this.idleMs);
      this.idleTimer.unref();
    }
  }

  /** Ends the worker and fails what waits. Never rejects. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.queue.splice(0)) w.reject(new RenderError('the chart renderer is closed'));
    if (this.running) {
      clearTimeout(this.running.timer);
      this.running.waiting.reject(new RenderError('the chart renderer is closed'));
      this.running = null;
    }
    if (this.idleTimer) clearTimeout(this.idleTimer);
    await this.stopWorker();
  }

  private remember(key: string, body: Buffer): void {
    if (body.length > CACHE_BYTES / 4) return;
    this.cache.set(key, body);
    this.cacheBytes += body.length;
    for (const [k, v] of this.cache) {
      if (this.cache.size <= this.cacheEntries && this.cacheBytes <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cacheBytes -= v.length;
    }
  }

  private pump(): void {
    if (this.running !== null || this.closed) return;
    const waiting = this.queue.shift();
    if (waiting === undefined) {
      this.idleTimer = setTimeout(() => void this.stopWorker(), this.idleMs);
      this.idleTimer.unref();
      return;
    }
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const drawn = waiting.job.format === 'png' ? this.cache.get(`svg:${waiting.job.key}`) : undefined;
    let spec: TopLevelSpec | null = null;
    try {
      if (drawn === undefined) spec = waiting.job.spec();
    } catch (err) {
      waiting.reject(err instanceof Error ? err : new Error(String(err)));
      this.pump();
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => this.finish(id, new RenderError(`chart render timed out after ${this.timeoutMs} ms`), true), this.timeoutMs);
    this.running = { id, waiting, timer };
    const message: ToWorker = { id, format: waiting.job.format, spec, svg: drawn === undefined ? null : drawn.toString('utf8') };
    this.startWorker().postMessage(message);
  }

  /** Settles the running render `id` (a stale id is ignored) and starts the next one. */
  private finish(id: number, outcome: Buffer | Error, killWorker: boolean): void {
    const running = this.running;
    if (running === null || running.id !== id) return;
    this.running = null;
    clearTimeout(running.timer);
    if (outcome instanceof Error) running.waiting.reject(outcome);
    else running.waiting.resolve(outcome);
    if (killWorker) void this.stopWorker();
    this.pump();
  }

  private startWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(`(${workerMain.toString()})()`, {
      eval: true,
      workerData: { ...setup, pngScale: this.pngScale },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    worker.unref();
    worker.on('message', (m: FromWorker) => this.finish(m.id, m.ok ? Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength) : new RenderError(`chart render failed: ${m.error}`), false));
    const lost = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.running) this.finish(this.running.id, new RenderError(`chart render failed: ${why}`), false);
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`the render worker exited (${code})`));
    this.worker = worker;
    return worker;
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate().catch(() => undefined);
  }
}

/**
 * The worker's program (sent as source text): loads Vega, Vega-Lite and resvg once, then answers
 * each message with the chart's bytes or an error message. Charts carry their data inline; the
 * Vega loader refuses anything else, so a spec can never make the worker fetch or read a file.
 */
function workerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- an eval'd worker has no static import */
  const threads = require('node:worker_threads') as typeof WorkerThreads;
  const data = threads.workerData as typeof setup;
  const { Resvg } = require(data.resvg) as typeof ResvgJs;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const parentPort = threads.parentPort;
  // Built from text so that no bundler or test transform rewrites this import().
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const load = new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;
  const libs = Promise.all([load(data.vega) as Promise<typeof Vega>, load(data.vegaLite) as Promise<typeof VegaLite>]);
  const drawSvg = async (spec: TopLevelSpec): Promise<string> => {
    const [vega, vl] = await libs;
    const loader = vega.loader();
    const refuse = (): Promise<never> => Promise.reject(new Error('charts load no external data'));
    loader.load = refuse;
    loader.sanitize = refuse;
    // Vega-Lite's and Vega's warnings are about the spec, which is ours: not for the daemon's stderr.
    const compiled = vl.compile(spec, { logger: vega.logger(vega.None) }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logLevel: vega.None });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  };
  const draw = async (msg: ToWorker): Promise<Uint8Array> => {
    const svg = msg.svg ?? (await drawSvg(msg.spec as TopLevelSpec));
    if (msg.format === 'svg') return new TextEncoder().encode(svg);
    const resvg = new Resvg(svg, {
      font: { loadSystemFonts: false, fontFiles: [data.font], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
      fitTo: { mode: 'zoom', value: data.pngScale },
    });
    // resvg's Buffer lives in native memory, which Node 24 refuses to transfer (the worker then
    // dies with an empty error): copy it into a plain ArrayBuffer that can be moved.
    return Uint8Array.from(resvg.render().asPng());
  };
  if (parentPort === null) return;
  parentPort.on('message', (msg: ToWorker) => {
    draw(msg).then(
      (body) => parentPort.postMessage({ id: msg.id, ok: true, body }, [body.buffer as ArrayBuffer]),
      (err: unknown) => parentPort.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}
