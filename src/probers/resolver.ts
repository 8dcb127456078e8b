/**
 * The host resolver the http, tcp and tls probers use for their dns phase. It returns every
 * address it finds, bogons included (the loopback test world resolves names to 127.x); whether
 * an address may be dialled is the caller's decision.
 */
import { promises as dns } from 'node:dns';
import { abortReason } from './deadline.js';
import { ipLiteral } from './dial.js';
import type { HostResolver } from './types.js';

export interface ResolverOptions {
  /** Per-attempt query timeout for configured servers, milliseconds; default 2000. */
  attemptTimeoutMs?: number;
  /** Attempts per server for configured servers; default 2. */
  tries?: number;
}

/** Settles like `work`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => void = () => undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(abortReason(signal));
    };
    if (signal.aborted) {
      abort();
      return;
    }
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function noData(host: string): Error {
  return Object.assign(new Error(`no addresses for ${host}`), { code: 'ENODATA', hostname: host });
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Error code of configured resolvers that could not be contacted (classified dns_resolver_unreachable). */
export const RESOLVER_UNREACHABLE = 'LOOKOUT_RESOLVER_UNREACHABLE';

/**
 * c-ares reports "could not contact DNS servers" (every server refused the query's datagram,
 * e.g. nothing listening: ICMP port unreachable) as ECONNREFUSED, the code a probed DNS server
 * refusing has too; here it is the vantage's own resolvers that are gone, so it gets its own code.
 */
function resolverError(err: unknown, servers: string[]): unknown {
  if (errorCode(err) !== 'ECONNREFUSED') return err;
  return Object.assign(new Error(`resolvers ${servers.join(', ')} could not be contacted`, { cause: err }), { code: RESOLVER_UNREACHABLE });
}

/**
 * Queries A and AAAA in parallel on a Resolver of its own (so cancelling on abort touches no
 * other probe's queries). Addresses come A first. When both fail, the A error is reported,
 * unless A merely had no data (ENODATA), then the AAAA error.
 */
async function resolveWithServers(host: string, servers: string[], opts: Required<ResolverOptions>, signal: AbortSignal): Promise<string[]> {
  const resolver = new dns.Resolver({ timeout: opts.attemptTimeoutMs, tries: opts.tries });
  resolver.setServers(servers);
  const both = Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const [v4, v6] = await raceAbort(both, signal, () => resolver.cancel());
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (addresses.length > 0) return addresses;
  if (v4.status === 'rejected' && (errorCode(v4.reason) !== 'ENODATA' || v6.status === 'fulfilled')) throw resolverError(v4.reason, servers);
  if (v6.status === 'rejected') throw resolverError(v6.reason, servers);
  throw noData(host);
}

async function resolveWithSystem(host: string, signal: AbortSignal): Promise<string[]> {
  // getaddrinfo cannot be cancelled: on abort the lookup finishes in the background, unheard.
  const lookup = dns.lookup(host, { all: true });
  lookup.catch(() => undefined);
  const found = await raceAbort(lookup, signal);
  if (found.length === 0) throw noData(host);
  return found.map((a) => a.address);
}

/**
 * A HostResolver. With `servers` ("host:port", "[v6]:port") it asks those servers directly
 * (node:dns Resolver, A and AAAA); without, it uses the system resolver (dns.lookup, i.e.
 * getaddrinfo with /etc/hosts). An IP literal resolves to itself without any query.
 * Rejections keep Node's error codes (ENOTFOUND, ESERVFAIL, EREFUSED, ETIMEOUT, ENODATA,
 * EAI_AGAIN ...) for classifyError(err, 'dns'), except c-ares' ECONNREFUSED (no configured
 * server could be contacted), which becomes RESOLVER_UNREACHABLE; an aborted signal rejects with
 * its reason (an AbortError or TimeoutError, classified as dns_timeout).
 */
export function createResolver(servers?: string[], options: ResolverOptions = {}): HostResolver {
  const opts: Required<ResolverOptions> = { attemptTimeoutMs: options.attemptTimeoutMs ?? 2000, tries: options.tries ?? 2 };
  const list = servers && servers.length > 0 ? [...servers] : null;
  return {
    resolve(host: string, signal: AbortSignal): Promise<string[]> {
      const literal = ipLiteral(host);
      if (literal !== null) return Promise.resolve([literal]);
      if (signal.aborted) return Promise.reject(abortReason(signal));
      return list ? resolveWithServers(host, list, opts, signal) : resolveWithSystem(host, signal);
    },
  };
}
