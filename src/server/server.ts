/**
 * The daemon's one HTTP listener (docs/design.md "HTTP endpoints"): /metrics, /healthz, /readyz,
 * POST /-/reload, plus extra GET routes (the /api/v1 endpoints) handed in by the caller.
 * Unknown paths answer 404 and wrong methods 405, both with a JSON {"error": ...} body.
 *
 * The listener is exposed to whoever can reach the port, so every client is bounded (see
 * ServerLimits): headers must arrive within headersTimeoutMs and the whole request within
 * requestTimeoutMs (else 408), a connection idle for idleTimeoutMs is closed, headers over
 * maxHeaderBytes answer 431, a body over maxBodyBytes answers 413 (no endpoint takes a body;
 * the body is read, bounded, before any handler runs), and past maxConnections new
 * connections are closed at once.
 */
import { createServer as createHttpServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Registry } from 'prom-client';
import { splitHostPort } from '../config/schema.js';
import { LookoutRegistry } from '../metrics/lookout-registry.js';
import type { Logger } from '../log.js';
import { bearerCheck } from './auth.js';
import { sendError, sendJson, sendText } from './respond.js';

/** A JSON answer of an extra route. */
export interface JsonResponse {
  status: number;
  body: unknown;
}

/** Handler of an extra GET route; a throw or rejection becomes a 500 with a log line. */
export type RouteHandler = (query: URLSearchParams) => JsonResponse | Promise<JsonResponse>;

/** Any answer of a raw route (a page, a script, an image): the handler sets every header. */
export interface RawResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string | Buffer;
}

/** Handler of an extra GET route that answers other than JSON; sees the request's headers. */
export type RawRouteHandler = (query: URLSearchParams, req: IncomingMessage) => RawResponse | Promise<RawResponse>;

/**
 * The outcome of a config reload, the one type for App.reload() (src/app.ts) and the answer of
 * POST /-/reload: on failure the running config stays and `problems` says why (`path: message`).
 */
export interface ReloadResult {
  ok: boolean;
  problems: string[];
}

/** Bounds on what one client can hold or send. */
export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Keep-alive connections between requests. */
  keepAliveTimeoutMs: number;
  /** Any connection with no traffic either way; kept below headersTimeoutMs. */
  idleTimeoutMs: number;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  maxConnections: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 16 * 1024,
  maxConnections: 4096,
};

export interface ServerOptions {
  /** "host:port" or "[v6]:port"; port 0 picks a free port. */
  listen: string;
  /** When set, POST /-/reload needs `Authorization: Bearer <adminToken>`. */
  adminToken: string | null;
  registry: Registry;
  /** Answer of /readyz: true once the daemon is probing. */
  ready: () => boolean;
  /** Reloads the config; the caller keeps the old config running when the new one is invalid. */
  reload: () => Promise<ReloadResult>;
  log: Logger;
  /** Extra GET routes by exact path, such as "/api/v1/status". */
  routes?: Readonly<Record<string, RouteHandler>>;
  /** Extra GET routes answering other than JSON, by exact path, such as "/" (the status page). */
  rawRoutes?: Readonly<Record<string, RawRouteHandler>>;
  /**
   * Extra GET routes answering other than JSON, by path prefix ending in "/" (such as
   * "/api/v1/charts/"): the handler reads the rest of the path from req.url. Exact routes win.
   */
  prefixRoutes?: Readonly<Record<string, RawRouteHandler>>;
  /** Overrides of DEFAULT_LIMITS (tests use short timeouts). */
  limits?: Partial<ServerLimits>;
}

export interface LookoutServer {
  /** Starts listening; resolves with the bound address, rejects on a listen error (EADDRINUSE). */
  listen(): Promise<{ host: string; port: number }>;
  /**
   * Stops accepting connections and closes idle keep-alive ones at once; requests still in
   * progress get graceMs to finish before their connections are cut. Resolves when closed.
   */
  close(graceMs: number): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>;

interface Route {
  /** Allowed methods; HEAD is answered like GET without a body (node:http drops it). */
  methods: readonly string[];
  handle: Handler;
}

const GET = ['GET', 'HEAD'] as const;

export function createServer(opts: ServerOptions): LookoutServer {
  const { log } = opts;
  const authorized = opts.adminToken === null ? () => true : bearerCheck(opts.adminToken);
  const routes = new Map<string, Route>([
    ['/metrics', { methods: GET, handle: (_req, res) => serveMetrics(opts.registry, log, res) }],
    ['/healthz', { methods: GET, handle: (_req, res) => sendText(res, 200, 'text/plain; charset=utf-8', 'ok\n') }],
    [
      '/readyz',
      {
        methods: GET,
        handle: (_req, res) =>
          opts.ready()
            ? sendText(res, 200, 'text/plain; charset=utf-8', 'ready\n')
            : sendText(res, 503, 'text/plain; charset=utf-8', 'not ready\n'),
      },
    ],
    [
      '/-/reload',
      {
        methods: ['POST'],
        handle: async (req, res) => {
          if (!authorized(req.headers.authorization)) {
            // Neither the token nor the header is logged: only that a request was refused.
            log.warn({ remote: req.socket.remoteAddress }, 'reload refused: missing or wrong admin token');
            sendError(res, 401, 'unauthorized', { 'WWW-Authenticate': 'Bearer' });
            return;
          }
          const outcome = await opts.reload();
          if (outcome.ok) sendJson(res, 200, { status: 'success' });
          else sendJson(res, 400, { status: 'error', problems: outcome.problems });
        },
      },
    ],
  ]);
  for (const [path, handler] of Object.entries(opts.routes ?? {})) {
    if (routes.has(path)) throw new Error(`route ${path} is built in and cannot be replaced`);
    routes.set(path, {
      methods: GET,
      handle: async (_req, res, query) => {
        const answer = await handler(query);
        sendJson(res, answer.status, answer.body);
      },
    });
  }

  for (const [path, handler] of Object.entries(opts.rawRoutes ?? {})) {
    if (routes.has(path)) throw new Error(`route ${path} is given twice or is built in`);
    routes.set(path, rawRoute(handler));
  }
  const prefixes = new Map<string, Route>();
  for (const [prefix, handler] of Object.entries(opts.prefixRoutes ?? {})) {
    if (!prefix.endsWith('/')) throw new Error(`route prefix ${prefix} must end in "/"`);
    prefixes.set(prefix, rawRoute(handler));
  }

  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const server = createHttpServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      // How often the timeouts above are checked; Node's default of 30 s would let a slow
      // client hold its connection up to that much longer.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      handleRequest({ routes, prefixes }, limits.maxBodyBytes, req, res).catch((err: unknown) => {
        log.error({ err, method: req.method, path: pathOf(req.url) }, 'request handler failed');
        if (!res.headersSent) sendError(res, 500, 'internal error');
        else res.destroy();
      });
    },
  );
  server.maxConnections = limits.maxConnections;
  // Node's header and request timeouts only start with a request's first byte, and
  // server.timeout does not reach a connection that never sends one: an idle timeout of our
  // own on every socket does. It must be shorter than the header timeout: on Node 20 a socket
  // timeout set longer than that never fires for a connection that sent nothing (measured).
  const idleMs = Math.min(limits.idleTimeoutMs, limits.headersTimeoutMs - 1);
  server.on('connection', (socket: Socket) => {
    socket.setTimeout(idleMs, () => socket.destroy());
  });

  return {
    listen() {
      const addr = parseListen(opts.listen);
      if (!addr) return Promise.reject(new Error(`invalid listen address "${opts.listen}": use host:port or [v6]:port`));
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(addr.port, addr.host, () => {
          server.off('error', onError);
          const bound = server.address() as AddressInfo;
          resolve({ host: bound.address, port: bound.port });
        });
      });
    },

    async close(graceMs) {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      try {
        await closed;
      } finally {
        clearTimeout(cut);
      }
    },
  };
}

/**
 * Reads the body (which no endpoint uses) up to its limit, then dispatches: a request is acted
 * on only once it arrived whole, and one with too large a body answers 413 and closes its
 * connection, the rest unread.
 */
async function handleRequest(routes: RouteTable, maxBodyBytes: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await readBounded(req, maxBodyBytes))) {
    res.shouldKeepAlive = false;
    sendError(res, 413, `request body larger than ${maxBodyBytes} bytes`, { Connection: 'close' });
    return;
  }
  await dispatch(routes, req, res);
}

/** Consumes the body; false as soon as it is (or announces to be) longer than `max` bytes. */
function readBounded(req: IncomingMessage, max: number): Promise<boolean> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.resolve(false);
  if (req.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    let bytes = 0;
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > max) finish(false);
    };
    const onEnd = (): void => finish(true);
    // A client gone mid-body: nothing to answer; the handler's write goes nowhere.
    const onClose = (): void => finish(req.complete);
    function finish(ok: boolean): void {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (!ok) req.pause();
      resolve(ok);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

/** A GET route whose handler sets every header of its answer. */
function rawRoute(handler: RawRouteHandler): Route {
  return {
    methods: GET,
    handle: async (req, res, query) => {
      const answer = await handler(query, req);
      res.writeHead(answer.status, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
    },
  };
}

/** Routes by exact path, and by path prefix (the longest that fits wins). */
interface RouteTable {
  routes: ReadonlyMap<string, Route>;
  prefixes: ReadonlyMap<string, Route>;
}

function findRoute(table: RouteTable, path: string): Route | undefined {
  const exact = table.routes.get(path);
  if (exact) return exact;
  let best: [string, Route] | undefined;
  for (const entry of table.prefixes) if (path.startsWith(entry[0]) && (best === undefined || entry[0].length > best[0].length)) best = entry;
  return best?.[1];
}

async function dispatch(routes: RouteTable, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const route = findRoute(routes, path);
  if (!route) {
    sendError(res, 404, 'not found');
    return;
  }
  const method = req.method ?? 'GET';
  if (!route.methods.includes(method)) {
    sendError(res, 405, 'method not allowed', { Allow: route.methods.join(', ') });
    return;
  }
  await route.handle(req, res, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
}

/**
 * Answers a scrape. The daemon registry's Prometheus text is written piece by piece (chunked,
 * with backpressure), so that a scrape of tens of thousands of series is never one string in
 * memory; any other registry or content type is rendered whole. A collection failure answers
 * 500; a client that goes away stops the rendering.
 */
async function serveMetrics(registry: Registry, log: Logger, res: ServerResponse): Promise<void> {
  let body: string | AsyncIterable<string>;
  try {
    body =
      registry instanceof LookoutRegistry && registry.contentType === Registry.PROMETHEUS_CONTENT_TYPE
        ? await registry.exposition()
        : await registry.metrics();
  } catch (err) {
    log.error({ err }, 'metrics collection failed');
    sendError(res, 500, 'metrics collection failed');
    return;
  }
  if (typeof body === 'string') {
    sendText(res, 200, registry.contentType, body);
    return;
  }
  res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
  try {
    for await (const piece of body) {
      if (!(await writePiece(res, piece))) return;
    }
  } catch (err) {
    // The status line is out: cutting the answer short is how a scraper learns it failed.
    log.error({ err }, 'metrics collection failed');
    res.destroy();
    return;
  }
  res.end();
}

/** Writes `piece`; resolves true once it may write more, false when the client went away. */
function writePiece(res: ServerResponse, piece: string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(piece)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (more: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(more);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] ?? '/';
}

/** splitHostPort, plus port 0 (any free port), which the config never needs but tests do. */
function parseListen(listen: string): { host: string; port: number } | null {
  const any = /^(.*):0$/.exec(listen);
  if (!any) return splitHostPort(listen);
  const hp = splitHostPort(`${any[1]}:1`);
  return hp && { host: hp.host, port: 0 };
}
