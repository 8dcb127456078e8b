/**
 * The http prober: a fresh connection per probe, dialled here (so the dns, connect and tls
 * phases are exact) and handed to an undici Client for one request.
 *
 * The Client lives for one exchange: it is given our socket once and driven through its
 * dispatch() handler API (no response stream, no promise per request: the body is collected
 * straight into a capped buffer); once the response has ended it is let go with one shared,
 * pre-built reason, so no probe builds an error object it does not report. A response still
 * arriving is let end first; a probe that failed or stopped reading destroys everything.
 */
import type { Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { Client, type buildConnector, type Dispatcher } from 'undici';
import type { HttpResolved, SourceBinding } from '../config/schema.js';
import { abortable, Deadline } from './deadline.js';
import { ProbeClock } from './probe-clock.js';
import { certExpiry, handshakeTls, type TrustOptions } from './tls-handshake.js';
import { destroyQuietly, dialTcp, ipLiteral, resolveHost } from './dial.js';
import { localAddressFor } from './source.js';
import { targetUrl } from './target-url.js';
import type { FailureReason } from './reasons.js';
import type { HostResolver, ProbeResult, Prober } from './types.js';

/** Redirects followed at most when follow_redirects is on. */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** What one request/response exchange left behind. */
interface Exchange {
  status: number;
  location: string | undefined;
  body: ResponseHandler;
  certExpiry: number | undefined;
}

/**
 * Everything a probe opened, released together at the end whatever happened: after a verdict
 * a Client whose response has ended is let go with EXCHANGE_OVER and one whose response is
 * still arriving is closed (it lets the response end, then closes its socket); after a
 * failure everything is destroyed.
 */
class Resources {
  private readonly clients: { client: Client; response: ResponseHandler }[] = [];
  private readonly sockets: Socket[] = [];

  socket<T extends Socket>(s: T): T {
    this.sockets.push(s);
    return s;
  }

  client(client: Client, response: ResponseHandler): Client {
    this.clients.push({ client, response });
    return client;
  }

  close(ok: boolean): void {
    let lingering = false;
    for (const { client, response } of this.clients) {
      if (!ok) client.destroy().catch(() => undefined);
      else if (response.done) client.destroy(EXCHANGE_OVER, noop);
      else {
        // close() lets a response still arriving (a body nobody reads) end first.
        client.close().catch(() => undefined);
        lingering = true;
      }
    }
    if (!lingering) {
      for (const s of this.sockets) destroyQuietly(s);
      return;
    }
    // Closed Clients close their sockets; this only catches one that lingers.
    const sockets = this.sockets;
    setTimeout(() => sockets.forEach(destroyQuietly), LINGER_MS).unref();
  }
}

/** How long a closed Client may take to close its socket before we destroy it. */
const LINGER_MS = 2000;

/**
 * The reason a Client whose exchange is over is destroyed with: one shared object. undici's
 * close() destroys the Client with a new ClientDestroyedError, whose stack is captured and
 * then formatted when the socket is torn down with it; per probe that was about a tenth of the
 * http prober's CPU. Nothing is waiting on the Client any more, so nobody sees this reason.
 */
const EXCHANGE_OVER = Object.assign(new Error('probe exchange over'), { code: 'LOOKOUT_EXCHANGE_OVER' });

const noop = (): void => undefined;

/** Body bytes a response may send past what the probe keeps before the connection is dropped. */
export const DRAIN_LIMIT = 1024 * 1024;

/** Why a handler stopped reading: the cap was reached (not a failure). */
class BodyCapReached extends Error {
  readonly code = 'LOOKOUT_BODY_CAP';
}

/**
 * One request's undici dispatch handler: resolves `headers` when the final response head is in,
 * keeps at most `cap` body bytes and resolves `body` when the response ends (or the cap is
 * reached: then reading stops and the connection is dropped, nothing past the cap is read).
 * Both reject with the request's error.
 */
class ResponseHandler implements Dispatcher.DispatchHandler {
  status = 0;
  headers: IncomingHttpHeaders = {};
  readonly head: Promise<void>;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** Body bytes received, kept or not. */
  private seen = 0;
  private settleHead!: { resolve: () => void; reject: (err: Error) => void };
  private settleBody: { resolve: (b: Buffer) => void; reject: (err: Error) => void } | null = null;
  private outcome: { body: Buffer } | { error: Error } | null = null;
  private controller: Dispatcher.DispatchController | null = null;

  constructor(private readonly cap: number) {
    this.head = new Promise((resolve, reject) => (this.settleHead = { resolve, reject }));
    // A failure after the head has no one waiting on `head`.
    this.head.catch(() => undefined);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: the final head is still to come
    this.status = statusCode;
    this.headers = headers;
    this.settleHead.resolve();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.outcome) return;
    const take = Math.min(chunk.length, this.cap - this.size);
    if (take > 0) {
      this.chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      this.size += take;
    }
    this.seen += chunk.length;
    // A body nobody keeps (cap 0) is still drained so the connection can close cleanly, but
    // only so far: an endless one would otherwise be read at full speed until LINGER_MS.
    if (this.cap > 0 ? this.size >= this.cap : this.seen > DRAIN_LIMIT) {
      this.finish({ body: Buffer.concat(this.chunks) });
      controller.abort(new BodyCapReached('body cap reached'));
    }
  }

  onResponseEnd(): void {
    this.finish({ body: Buffer.concat(this.chunks) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.settleHead.reject(err);
    if (!(err instanceof BodyCapReached)) this.finish({ error: err });
  }

  /** True once the response ended or failed: nothing more will arrive. */
  get done(): boolean {
    return this.outcome !== null;
  }

  /** The body (at most `cap` bytes) once the response has ended; rejects on the deadline. */
  read(deadline: Deadline): Promise<Buffer> {
    return abortable<Buffer>(
      deadline,
      (resolve, reject) => {
        const o = this.outcome;
        if (o) {
          if ('body' in o) resolve(o.body);
          else reject(o.error);
          return;
        }
        this.settleBody = { resolve, reject };
      },
      () => this.controller?.abort(deadline.reason),
    );
  }

  private finish(outcome: { body: Buffer } | { error: Error }): void {
    if (this.outcome) return;
    this.outcome = outcome;
    if (!this.settleBody) return;
    if ('body' in outcome) this.settleBody.resolve(outcome.body);
    else this.settleBody.reject(outcome.error);
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Request headers: the target's, with the Host override (when it applies) replacing any Host;
 * without either, Host is the URL's host (with its port unless it is the scheme's default).
 */
function requestHeaders(target: HttpResolved, url: URL, sameHost: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  const override = sameHost ? target.host : undefined;
  let host: string = override ?? url.host;
  for (const [name, value] of Object.entries(target.headers)) {
    if (name.toLowerCase() === 'host') {
      if (override === undefined) host = value;
      continue;
    }
    headers[name] = value;
  }
  headers.host = host;
  return headers;
}

/**
 * Sends one request on the connected `socket` through a Client of its own (registered with
 * `resources`) and resolves with its handler once the response head is in. Rejects with the
 * request's error (the connection reset or closed before a response, a malformed response) or
 * with the deadline's reason, and then destroys the Client.
 */
function sendRequest(socket: Socket, url: URL, method: 'GET' | 'HEAD', headers: Record<string, string>, cap: number, deadline: Deadline, resources: Resources): Promise<ResponseHandler> {
  let handed = false;
  const connect: buildConnector.connector = (_options, callback) => {
    // One connection per probe: undici never gets a second socket from us.
    if (handed) {
      callback(new Error('the probe connection is already in use'), null);
      return;
    }
    handed = true;
    // Asynchronously: undici's connect path is not re-entrant (a synchronous callback stalls it).
    queueMicrotask(() => callback(null, socket));
  };
  // The probe's deadline governs; undici's own timers would only race it.
  const handler = new ResponseHandler(cap);
  const client = resources.client(new Client(originOf(url), { connect, headersTimeout: 0, bodyTimeout: 0, pipelining: 1 }), handler);
  return abortable<ResponseHandler>(
    deadline,
    (resolve, reject) => {
      client.dispatch({ path: `${url.pathname}${url.search}`, method, headers }, handler);
      handler.head.then(() => resolve(handler), reject);
    },
    () => void client.destroy().catch(() => undefined),
  );
}

/** Origins as URL objects (undici takes them as they are), by origin string. */
const origins = new Map<string, URL>();
/** Past this many distinct origins (redirects to many hosts) the cache starts over. */
const MAX_ORIGINS = 100_000;

function originOf(url: URL): URL {
  let origin = origins.get(url.origin);
  if (!origin) {
    if (origins.size >= MAX_ORIGINS) origins.clear();
    origin = new URL(url.origin);
    origins.set(url.origin, origin);
  }
  return origin;
}

/** What every hop of one probe shares. */
interface Probe {
  target: HttpResolved;
  clock: ProbeClock;
  deadline: Deadline;
  resolver: HostResolver;
  /** The probe's source binding (every hop leaves from it). */
  source: SourceBinding | undefined;
  trust: TrustOptions;
  resources: Resources;
  /** The address dialled last (the result's `ip`). */
  ip: string | null;
  /** The status of the last response, kept for a failure while reading its body. */
  status: number | undefined;
}

/**
 * One hop: dial `url` (the target's `ip` override, `host` and `sni` apply only while the URL's
 * host is the target's own), send one request on that connection and return once the response
 * headers are in. Phases accumulate on the probe's clock; ttfb runs from the request being
 * handed to the connection until the response headers.
 */
async function exchange(probe: Probe, url: URL, method: 'GET' | 'HEAD'): Promise<Exchange> {
  const { target, clock, deadline, resources } = probe;
  const sameHost = url.hostname === targetUrl(target).hostname;
  const https = url.protocol === 'https:';
  const port = url.port !== '' ? Number(url.port) : https ? 443 : 80;
  const ip = sameHost && target.ip !== undefined ? target.ip : await resolveHost(url.hostname, probe.resolver, clock, deadline);
  probe.ip = ip;

  let socket: Socket = resources.socket(await clock.run('connect', 'connect', async () => dialTcp(ip, port, deadline, localAddressFor(probe.source, ip))));
  let expiry: number | undefined;
  if (https) {
    const urlName = ipLiteral(url.hostname) === null ? url.hostname : undefined;
    const servername = (sameHost ? target.sni : undefined) ?? urlName;
    const plain = socket;
    const options = {
      servername,
      verify: !target.insecure_skip_verify,
      verifyHost: ipLiteral(url.hostname) ?? url.hostname,
      alpn: ['http/1.1'],
      ...probe.trust,
    };
    const tls = await clock.run('tls', 'tls', () => handshakeTls(plain, options, deadline));
    socket = resources.socket(tls);
    expiry = certExpiry(tls);
  }

  const cap = wantsBody(target, method) ? target.body_limit : 0;
  const response = await clock.run('http', 'ttfb', () => sendRequest(socket, url, method, requestHeaders(target, url, sameHost), cap, deadline, resources));
  return {
    status: response.status,
    location: headerValue(response.headers.location),
    body: response,
    certExpiry: expiry,
  };
}

/** Whether the body is read: only for GET, and only when a body check is configured. */
function wantsBody(target: HttpResolved, method: 'GET' | 'HEAD'): boolean {
  return method === 'GET' && (target.expect.body_contains !== undefined || target.expect.body_not_contains !== undefined);
}

/** The verdict on a final response. */
function judge(target: HttpResolved, status: number, body: Buffer | null): { reason: FailureReason | null; detail?: string } {
  const { body_not_contains: blockText, body_contains: wanted, status: range } = target.expect;
  if (body && blockText !== undefined && body.includes(blockText)) return { reason: 'http_blockpage', detail: `status ${status}, blockpage text found` };
  if (status < range[0] || status > range[1]) return { reason: 'http_status', detail: `status ${status}, expected ${range[0]}-${range[1]}` };
  if (body && wanted !== undefined && !body.includes(wanted)) return { reason: 'http_body_mismatch', detail: `expected text not in the first ${body.length} bytes` };
  return { reason: null };
}

/**
 * An http prober. Per probe: a fresh connection for every hop (dns, connect, tls for https with
 * ALPN http/1.1 and SNI `sni` ?? the URL's host name), one request (method, headers, Host
 * override), redirects followed only with follow_redirects (at most MAX_REDIRECTS hops; more is
 * http_status). The body is read only when a body check is configured and the method is GET,
 * and then at most body_limit bytes. Verdict: blockpage text found -> http_blockpage (before
 * the status, since blockpages come as 200, 403 or 451), status outside expect.status ->
 * http_status, expected text missing -> http_body_mismatch. One deadline (ctx.timeoutMs)
 * covers every phase and hop; a failure is classified by the phase in progress. Phases dns,
 * connect, tls and ttfb are summed over hops; total is the whole probe. `trust` replaces the
 * system roots (tests, private PKI). Header values are never logged.
 */
export function createHttpProber(trust: TrustOptions = {}): Prober<HttpResolved> {
  return async (target, ctx) => {
    const clock = new ProbeClock();
    const deadline = new Deadline(ctx.timeoutMs, ctx.signal);
    const probe: Probe = { target, clock, deadline, resolver: ctx.resolver, source: ctx.source, trust, resources: new Resources(), ip: null, status: undefined };
    const result = (fields: Pick<ProbeResult, 'ok' | 'reason'> & Partial<ProbeResult>): ProbeResult =>
      clock.result(target.id, 'http', { ip: probe.ip, ...fields });
    let ok = false;
    try {
      let url = targetUrl(target);
      let method = target.method;
      let expiry: number | undefined;
      for (let hop = 0; ; hop++) {
        const ex = await exchange(probe, url, method);
        probe.status = ex.status;
        expiry = ex.certExpiry ?? expiry;
        const certField = expiry !== undefined ? { cert_expiry: expiry } : {};
        const redirect = target.follow_redirects && REDIRECT_STATUSES.has(ex.status) && ex.location !== undefined;
        if (redirect && hop < MAX_REDIRECTS) {
          url = new URL(ex.location as string, url);
          if (ex.status === 303) method = method === 'HEAD' ? 'HEAD' : 'GET';
          continue;
        }
        if (redirect) {
          return result({ ok: false, reason: 'http_status', status: ex.status, detail: `more than ${MAX_REDIRECTS} redirects`, ...certField });
        }
        let body: Buffer | null = null;
        if (wantsBody(target, method)) body = target.body_limit > 0 ? await ex.body.read(deadline) : Buffer.alloc(0);
        const verdict = judge(target, ex.status, body);
        ok = true;
        return result({ ok: verdict.reason === null, reason: verdict.reason, status: ex.status, ...(verdict.detail ? { detail: verdict.detail } : {}), ...certField });
      }
    } catch (err) {
      const status = probe.status !== undefined ? { status: probe.status } : {};
      return result({ ok: false, ...clock.failure(err, deadline), ...status });
    } finally {
      deadline.dispose();
      probe.resources.close(ok);
    }
  };
}

/** The http prober with the system's trust store. */
export const probeHttp: Prober<HttpResolved> = createHttpProber();
