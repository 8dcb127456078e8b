/**
 * The doh prober, DNS over HTTPS (RFC 8484): resolve the URL's host (unless `ip` is given),
 * connect, TLS handshake offering h2 and http/1.1, one DNS query as an application/dns-message
 * exchange through an undici Client on that connection, the answer judged as the dns prober
 * judges it. Phases connect, tls, dns (request to the end of the answer), total.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as dnsPacket from 'dns-packet';
import { Client, type Dispatcher } from 'undici';
import type { DohResolved } from '../config/schema.js';
import { answerResult, matchResponse, newQuery, Rejected } from './dns-answer.js';
import { localAddressFor } from './source.js';
import { targetUrl } from './target-url.js';
import { Deadline } from './deadline.js';
import { ProbeClock } from './probe-clock.js';
import { certExpiry, handshakeTls, type TrustOptions } from './tls-handshake.js';
import { destroyQuietly, dialTcp, ipLiteral, resolveHost } from './dial.js';
import type { ProbeResult, Prober } from './types.js';

/** The media type of a DNS message over HTTPS (RFC 8484 section 6). */
export const DNS_MESSAGE = 'application/dns-message';

/** Largest DNS message (its length field is 16 bits); a longer body is not one. */
const MAX_MESSAGE = 65_535;

/** What came back over HTTP: the status, the media type and at most MAX_MESSAGE + 1 body bytes. */
interface HttpAnswer {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/** The request path: the URL's, plus `dns=<base64url, no padding>` for GET (RFC 8484 section 4.1). */
export function requestPath(url: URL, method: 'GET' | 'POST', wire: Buffer): string {
  if (method === 'POST') return `${url.pathname}${url.search}`;
  const param = `dns=${wire.toString('base64url')}`;
  return `${url.pathname}${url.search === '' ? '?' : `${url.search}&`}${param}`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * One request on the connected `tls` socket through a Client of its own (h2 when the server
 * chose it in ALPN, else HTTP/1.1). Resolves with the status, media type and body (reading
 * stops past MAX_MESSAGE bytes); rejects with undici's error or the deadline's reason. The
 * Client is always destroyed (with the socket) before this settles.
 */
async function exchange(tls: TLSSocket, url: URL, method: 'GET' | 'POST', wire: Buffer, deadline: Deadline): Promise<HttpAnswer> {
  let handed = false;
  const client = new Client(url.origin, {
    connect: (_options, callback) => {
      // One connection per probe: undici never gets a second socket from us.
      if (handed) {
        callback(new Error('the probe connection is already in use'), null);
        return;
      }
      handed = true;
      // Asynchronously: undici's connect path is not re-entrant.
      queueMicrotask(() => callback(null, tls));
    },
    allowH2: true,
    // The probe's deadline governs; undici's own timers would only race it.
    headersTimeout: 0,
    bodyTimeout: 0,
    pipelining: 1,
  });
  try {
    const headers: Record<string, string> = { accept: DNS_MESSAGE };
    const options: Dispatcher.RequestOptions = { path: requestPath(url, method, wire), method, headers, signal: deadline.signal };
    if (method === 'POST') {
      headers['content-type'] = DNS_MESSAGE;
      options.body = wire;
    }
    const response = await client.request(options);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_MESSAGE) break;
    }
    return { status: response.statusCode, contentType: headerValue(response.headers['content-type']), body: Buffer.concat(chunks) };
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

/** The media type without parameters, lower-case. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * A doh prober. Per probe: a fresh connection to the URL's host (or `ip`; a name is resolved
 * through the probe's resolver, a bootstrap lookup that counts in `total` only), TLS with SNI
 * the URL's host name and ALPN h2, http/1.1 (verified unless `insecure_skip_verify`), one
 * request: POST with the query as body, or GET with ?dns=. The query carries a random id (not
 * the 0 RFC 8484 suggests for caches: a probe wants no cached answer, and the id is what tells
 * a response to another query apart). Verdict: a status outside 2xx is http_status; a body
 * that is not application/dns-message, is larger than a DNS message or does not decode is
 * dns_malformed; a message answering another query is dns_mismatch; then the dns prober's
 * rules (judgeResponse). One deadline (ctx.timeoutMs) covers every phase; a failure is
 * classified by the phase in progress (connect: tcp_*, handshake: tls_* (an SNI filter's reset
 * is tls_reset), the exchange: http_reset, http_timeout, http_protocol_error). `status` is set
 * when a response arrived. `trust` replaces the system roots (tests, private PKI).
 */
export function createDohProber(trust: TrustOptions = {}): Prober<DohResolved> {
  return async (target, ctx) => {
    const url = targetUrl(target);
    const clock = new ProbeClock();
    const deadline = new Deadline(ctx.timeoutMs, ctx.signal);
    let ip: string | null = null;
    let socket: Socket | undefined;
    let tls: TLSSocket | undefined;
    let expiry: number | undefined;
    let status: number | undefined;
    const result = (fields: Pick<ProbeResult, 'ok' | 'reason'> & Partial<ProbeResult>): ProbeResult =>
      clock.result(target.id, 'doh', {
        ip,
        ...(status !== undefined ? { status } : {}),
        ...(expiry !== undefined ? { cert_expiry: expiry } : {}),
        ...fields,
      });
    try {
      // A scratch clock: the bootstrap lookup is not the dns phase (that is the query itself).
      ip = target.ip ?? (await resolveHost(url.hostname, ctx.resolver, new ProbeClock(), deadline));
      const dialled = ip;
      const port = url.port !== '' ? Number(url.port) : 443;
      const plain = await clock.run('connect', 'connect', async () => dialTcp(dialled, port, deadline, localAddressFor(ctx.source, dialled)));
      socket = plain;
      const literal = ipLiteral(url.hostname);
      const options = {
        servername: literal === null ? url.hostname : undefined,
        verify: !target.insecure_skip_verify,
        verifyHost: literal ?? url.hostname,
        alpn: ['h2', 'http/1.1'],
        ...trust,
      };
      const secured = await clock.run('tls', 'tls', () => handshakeTls(plain, options, deadline));
      tls = secured;
      expiry = certExpiry(secured);
      const query = newQuery(target.query);
      const answer = await clock.run('http', 'dns', () => exchange(secured, url, target.method, dnsPacket.encode(query), deadline));
      status = answer.status;
      if (answer.status < 200 || answer.status > 299) return result({ ok: false, reason: 'http_status', detail: `status ${answer.status}, expected 2xx` });
      const type = mediaType(answer.contentType);
      if (type !== DNS_MESSAGE) return result({ ok: false, reason: 'dns_malformed', detail: `content-type ${type || 'missing'}, expected ${DNS_MESSAGE}` });
      if (answer.body.length > MAX_MESSAGE) return result({ ok: false, reason: 'dns_malformed', detail: `body longer than ${MAX_MESSAGE} bytes` });
      const rejected = new Rejected();
      const response = matchResponse(answer.body, query, rejected);
      if (!response) {
        const why = rejected.malformed > 0 ? `undecodable message: ${rejected.firstError ?? 'invalid'}` : 'a response to another query (wrong id or question)';
        return result({ ok: false, reason: rejected.malformed > 0 ? 'dns_malformed' : 'dns_mismatch', detail: why });
      }
      return result(answerResult(response, target));
    } catch (err) {
      return result({ ok: false, ...clock.failure(err, deadline) });
    } finally {
      deadline.dispose();
      destroyQuietly(tls);
      destroyQuietly(socket);
    }
  };
}

/** The doh prober with the system's trust store. */
export const probeDoh: Prober<DohResolved> = createDohProber();
