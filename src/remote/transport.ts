/**
 * The HTTP side of a remote write sender, run in a worker thread of its own: post() hands one
 * encoded request body to the worker, which sends it with undici and answers with the status,
 * the Retry-After header and the start of the body, or with the error's code.
 *
 * Why a worker: undici's client code is shared with the http prober, which drives a Client with
 * its own dispatch handler. Requests of another shape in the same isolate (request() through an
 * Agent, with a body) make every http probe dearer: bench/remote-write/probe-path.ts measured
 * +9% CPU per probe with the sender's requests on the main thread and +5.4-6.2% with them here; a
 * daemon that only made one such request every 5 s beside its probes paid the same
 * (bench/RESULTS.md, "Remote write"). A worker has its own isolate, so the requests leave the
 * probe path's compiled code alone; they also stay off the main event loop. Encoding stays on
 * the main thread: moved here too it measured no better (+8%), and a batch's series would have
 * to be copied across.
 *
 * The worker's program is workerMain below, sent as source text (eval): it uses nothing from this
 * module's scope and loads undici by the path this module resolves, so the same code runs from
 * the TypeScript sources (tests) and from dist/.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as WorkerThreads from 'node:worker_threads';
import type * as Undici from 'undici';

export interface TransportOptions {
  /** PEM text of the CA to trust (tls.ca_file), instead of the system's. */
  ca?: string;
  rejectUnauthorized: boolean;
  /** Limit on waiting for the answer's headers, and on each gap in its body. */
  timeoutMs: number;
  /** Characters of the answer's body kept (for the log line of a refusal). */
  bodyExcerpt: number;
}

/** What the receiver answered. */
export interface TransportAnswer {
  status: number;
  retryAfter: string | undefined;
  /** The first TransportOptions.bodyExcerpt characters of the body. */
  body: string;
}

/** A request that got no answer: `code` is the error's stable code (undici's or the system's) when it has one. */
export class TransportError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Messages to the worker. */
type ToWorker =
  | { type: 'post'; id: number; url: string; headers: Record<string, string>; body: Uint8Array }
  | { type: 'abort'; id: number }
  | { type: 'close' };

/** Messages from the worker. */
type FromWorker =
  | { id: number; ok: true; status: number; retryAfter: string | undefined; body: string }
  | { id: number; ok: false; code: string | undefined; message: string };

interface WorkerSetup extends TransportOptions {
  /** Absolute path of undici's entry point. */
  undici: string;
}

/** How long close() waits for the worker to finish before terminating it. */
const CLOSE_GRACE_MS = 1000;

const undiciPath = createRequire(import.meta.url).resolve('undici');

export class HttpTransport {
  private worker: Worker | null = null;
  private nextId = 1;
  /** Requests in flight, with the worker that has each. */
  private readonly pending = new Map<number, { worker: Worker; resolve: (a: TransportAnswer) => void; reject: (e: TransportError) => void }>();

  constructor(private readonly opts: TransportOptions) {}

  /**
   * Sends one POST with `body` (copied to the worker); resolves with the answer, rejects with a
   * TransportError (also when `signal` aborts it).
   */
  post(url: string, headers: Record<string, string>, body: Uint8Array, signal: AbortSignal): Promise<TransportAnswer> {
    if (signal.aborted) return Promise.reject(new TransportError('UND_ERR_ABORTED', 'Request aborted'));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<TransportAnswer>((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(id);
        this.send(worker, { type: 'abort', id });
        reject(new TransportError('UND_ERR_ABORTED', 'Request aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        worker,
        resolve: (a) => {
          signal.removeEventListener('abort', onAbort);
          resolve(a);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.send(worker, { type: 'post', id, url, headers, body });
    });
  }

  /** Lets the worker close its connections and exit (terminated after a second). Never rejects. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker === null) return;
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    this.send(worker, { type: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(r, CLOSE_GRACE_MS);
    });
    await Promise.race([exited, late]);
    clearTimeout(timer);
    await worker.terminate().catch(() => undefined);
    this.failAll(worker, 'the remote write transport was closed');
  }

  private start(): Worker {
    if (this.worker !== null) return this.worker;
    const setup: WorkerSetup = { ...this.opts, undici: undiciPath };
    const worker = new Worker(`(${workerMain.toString()})()`, { eval: true, workerData: setup });
    // The sender decides when the process is done, not an idle connection in the worker.
    worker.unref();
    worker.on('message', (m: FromWorker) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve({ status: m.status, retryAfter: m.retryAfter, body: m.body });
      else p.reject(new TransportError(m.code, m.message));
    });
    const gone = (why: string): void => {
      if (this.worker === worker) this.worker = null;
      this.failAll(worker, why);
    };
    worker.on('error', (err) => gone(`remote write transport failed: ${err.message}`));
    worker.on('exit', (code) => gone(`remote write transport exited (${code})`));
    this.worker = worker;
    return worker;
  }

  private send(worker: Worker, message: ToWorker): void {
    worker.postMessage(message);
  }

  /** Rejects every request `worker` had in flight (it is gone): the sender retries them, nothing is lost. */
  private failAll(worker: Worker, why: string): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(new TransportError('LOOKOUT_TRANSPORT_GONE', why));
    }
  }
}

/**
 * The worker's program. Sent as source text: it may use only its own locals, globals and
 * require() (an eval'd worker is a CommonJS script).
 */
function workerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- an eval'd worker has no import */
  const threads = require('node:worker_threads') as typeof WorkerThreads;
  const setup = threads.workerData as WorkerSetup;
  const { Agent, request } = require(setup.undici) as typeof Undici;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const port = threads.parentPort;
  if (port === null) return;
  const agent = new Agent({
    connect: { rejectUnauthorized: setup.rejectUnauthorized, ...(setup.ca !== undefined ? { ca: setup.ca } : {}) },
    headersTimeout: setup.timeoutMs,
    bodyTimeout: setup.timeoutMs,
  });
  const inFlight = new Map<number, AbortController>();
  const answer = (m: FromWorker): void => port.postMessage(m);
  const post = async (m: Extract<ToWorker, { type: 'post' }>): Promise<void> => {
    const ac = new AbortController();
    inFlight.set(m.id, ac);
    try {
      const res = await request(m.url, { method: 'POST', headers: m.headers, body: m.body, dispatcher: agent, signal: ac.signal });
      let excerpt = '';
      try {
        excerpt = (await res.body.text()).slice(0, setup.bodyExcerpt);
      } catch {
        // The status decides; the body is only for the log.
      }
      const ra = res.headers['retry-after'];
      answer({ id: m.id, ok: true, status: res.statusCode, retryAfter: Array.isArray(ra) ? ra[0] : ra, body: excerpt });
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      // An abort surfaces as a DOMException (numeric code): named as undici names its own aborts.
      const code = ac.signal.aborted ? 'UND_ERR_ABORTED' : typeof e.code === 'string' ? e.code : undefined;
      answer({ id: m.id, ok: false, code, message: typeof e.message === 'string' ? e.message : String(err) });
    } finally {
      inFlight.delete(m.id);
    }
  };
  port.on('message', (m: ToWorker) => {
    if (m.type === 'post') void post(m);
    else if (m.type === 'abort') inFlight.get(m.id)?.abort();
    else {
      for (const ac of inFlight.values()) ac.abort();
      void agent.close().finally(() => port.close());
    }
  });
}
