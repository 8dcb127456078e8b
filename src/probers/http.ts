/**
 * The http prober: a fresh connection per probe, dialled here (so the dns, connect and tls
 * phases are exact) and handed to a node:http request for one exchange.
 *
 * Why node:http and not an undici Client: an undici Client is built for a long-lived pool;
 * creating and destroying one per connection allocates its parser and queues and constructs
 * (and, through stream teardown, formats) two or three Error objects per probe, which made up
 * most of the prober's CPU. A node:http request on a given socket parses with the runtime's
 * native parser and tears down without an error when the response is complete.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpResolved } from '../config/schema.js';
import { abortable, certExpiry, Deadline, destroyQuietly, dialTcp, handshakeTls, ipLiteral, ProbeClock, resolveHost, type TrustOptions } from './dial.js';
import { classifyError, describeError } from './failure.js';
import type { FailureReason } from './reasons.js';
import type { HostResolver, ProbeResult, Prober } from './types.js';

/** Redirects followed at most when follow_redirects is on. */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** What one request/response exchange left behind. */
interface Exchange {
  status: number;
  location: string | undefined;
  body: IncomingMessage;
  certExpiry: number | undefined;
}

/** The sockets a probe opened, destroyed together at the end whatever happened. */
class Resources {
  private readonly sockets: Socket[] = [];

  socket<T extends Socket>(s: T): T {
    this.sockets.push(s);
    return s;
  }

  close(): void {
    for (const s of this.sockets) destroyQuietly(s);
  }
}

/**
 * Reads at most `limit` bytes of `body`, then stops (the rest is never read). When the
 * deadline fires first the body is destroyed and this rejects with the deadline's reason.
 */
async function readCapped(body: IncomingMessage, limit: number, deadline: Deadline): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const unsubscribe = deadline.onFire(() => body.destroy(deadline.reason));
  try {
    if (limit > 0) {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        const take = Math.min(buf.length, limit - size);
        chunks.push(buf.subarray(0, take));
        size += take;
        // Leaving the loop destroys the stream: nothing past the cap is read.
        if (size >= limit) break;
      }
    }
  } finally {
    unsubscribe();
  }
  discard(body);
  return Buffer.concat(chunks);
}

/**
 * Drops a response body unread. A body that has fully arrived (the usual small response) is
 * let run to its end, which costs nothing and raises no error; one still arriving is destroyed
 * (its connection is cut) and the error that may follow has no one to tell.
 */
function discard(body: IncomingMessage): void {
  body.on('error', () => undefined);
  if (body.complete) body.resume();
  else body.destroy();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Request headers: the target's, with the Host override (when it applies) replacing any Host;
 * without either, Host is the URL's host (with its port unless it is the scheme's default).
 */
function requestHeaders(target: HttpResolved, url: URL, sameHost: boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
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
 * Sends one request on the connected `socket` (node:http, no agent: the request says
 * `Connection: close` and the socket is never reused) and resolves once the response headers
 * are in. Rejects with the request's error (the connection reset or closed before a response,
 * a malformed response) or with the deadline's reason, and then destroys the request.
 */
function sendRequest(socket: Socket, url: URL, method: 'GET' | 'HEAD', headers: OutgoingHttpHeaders, deadline: Deadline): Promise<IncomingMessage> {
  let req: ClientRequest | undefined;
  return abortable<IncomingMessage>(
    deadline,
    (resolve, reject) => {
      const r = httpRequest({ createConnection: () => socket, method, path: `${url.pathname}${url.search}`, headers });
      req = r;
      // Errors also come after the response (a reset while the body is read: the body
      // reports those); this listener stays so that none goes unheard.
      r.on('error', reject);
      r.once('response', resolve);
      r.end();
    },
    () => req?.destroy(),
  );
}

/** Each target's URL, parsed once (never modified: hops build new URL objects). */
const parsedUrls = new WeakMap<HttpResolved, URL>();

function targetUrl(target: HttpResolved): URL {
  let url = parsedUrls.get(target);
  if (!url) {
    url = new URL(target.url);
    parsedUrls.set(target, url);
  }
  return url;
}

/** What every hop of one probe shares. */
interface Probe {
  target: HttpResolved;
  clock: ProbeClock;
  deadline: Deadline;
  resolver: HostResolver;
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

  let socket: Socket = resources.socket(await clock.run('connect', 'connect', () => dialTcp(ip, port, deadline)));
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

  const response = await clock.run('http', 'ttfb', () => sendRequest(socket, url, method, requestHeaders(target, url, sameHost), deadline));
  return {
    status: response.statusCode ?? 0,
    location: headerValue(response.headers.location),
    body: response,
    certExpiry: expiry,
  };
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
    const probe: Probe = { target, clock, deadline, resolver: ctx.resolver, trust, resources: new Resources(), ip: null, status: undefined };
    const result = (fields: Pick<ProbeResult, 'ok' | 'reason'> & Partial<ProbeResult>): ProbeResult =>
      clock.result(target.id, 'http', { ip: probe.ip, ...fields });
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
          discard(ex.body);
          url = new URL(ex.location as string, url);
          if (ex.status === 303) method = method === 'HEAD' ? 'HEAD' : 'GET';
          continue;
        }
        if (redirect) {
          discard(ex.body);
          return result({ ok: false, reason: 'http_status', status: ex.status, detail: `more than ${MAX_REDIRECTS} redirects`, ...certField });
        }
        const wantsBody = method === 'GET' && (target.expect.body_contains !== undefined || target.expect.body_not_contains !== undefined);
        let body: Buffer | null = null;
        if (wantsBody) body = await readCapped(ex.body, target.body_limit, deadline);
        else discard(ex.body);
        const verdict = judge(target, ex.status, body);
        return result({ ok: verdict.reason === null, reason: verdict.reason, status: ex.status, ...(verdict.detail ? { detail: verdict.detail } : {}), ...certField });
      }
    } catch (err) {
      const detail = deadline.describe() ?? describeError(err);
      const status = probe.status !== undefined ? { status: probe.status } : {};
      return result({ ok: false, reason: classifyError(err, clock.current), detail, ...status });
    } finally {
      deadline.dispose();
      probe.resources.close();
    }
  };
}

/** The http prober with the system's trust store. */
export const probeHttp: Prober<HttpResolved> = createHttpProber();
