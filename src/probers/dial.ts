/**
 * Dialling, shared by the probers that open connections: the address to dial for a host (a
 * timed dns phase through the probe's resolver), and a TCP connect that stops the moment the
 * probe's deadline fires. Failures are rejections carrying the low-level error (or the
 * deadline's reason); the probers classify them with the phase they were in.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { abortable, type Deadline } from './deadline.js';
import type { ProbeClock } from './probe-clock.js';
import { localAddressFor, sourceBindError } from './source.js';
import type { ProbeContext } from './types.js';

/** An IP literal (also "[v6]" as in a URL host) without brackets, or null for a name. */
export function ipLiteral(host: string): string | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) !== 0 ? bare : null;
}

/** "This host" addresses: connecting to them reaches the vantage itself, never the target. */
const UNSPECIFIED = /^(0\.\d+\.\d+\.\d+|::|::ffff:0\.\d+\.\d+\.\d+)$/i;

/**
 * Resolves `host` (an IP literal resolves to itself, with no dns phase) to the address to dial:
 * the first answer that is not a "this host" address (0.0.0.0/8, ::). A name answered only with
 * such addresses, the classic resolver blocking answer, fails with dns_bogon_answer and is
 * never dialled: on Linux a connect to 0.0.0.0 would reach the vantage's own services.
 */
export async function resolveHost(
  host: string,
  resolver: { resolve(host: string, signal: AbortSignal): Promise<string[]> },
  clock: ProbeClock,
  deadline: Deadline,
): Promise<string> {
  const literal = ipLiteral(host);
  if (literal !== null) return literal;
  return clock.run('dns', 'dns', async () => {
    const addresses = await resolver.resolve(host, deadline.signal);
    if (addresses.length === 0) throw Object.assign(new Error(`no addresses for ${host}`), { code: 'ENODATA' });
    const usable = addresses.find((ip) => !UNSPECIFIED.test(ip));
    if (usable === undefined) throw Object.assign(new Error(`${host} resolves to ${addresses.join(', ')} only`), { code: DNS_BOGON_CODE });
    return usable;
  });
}

/** Error code of a name answered only with "this host" addresses (classified dns_bogon_answer). */
export const DNS_BOGON_CODE = 'LOOKOUT_DNS_BOGON';

/**
 * resolveHost, then dialTcp from the probe's source binding, timed as the dns and connect
 * phases. `dialled.ip` is set once the address is known (a result names it, failed or not).
 */
export async function connectHost(host: string, port: number, ctx: ProbeContext, clock: ProbeClock, deadline: Deadline, dialled: { ip: string | null }): Promise<Socket> {
  const ip = await resolveHost(host, ctx.resolver, clock, deadline);
  dialled.ip = ip;
  return clock.run('connect', 'connect', () => dialTcp(ip, port, deadline, localAddressFor(ctx.source, ip)));
}

/**
 * Opens a TCP connection to ip:port, from `localAddress` when given (a source binding: see
 * source.ts; a refused bind rejects with a SourceUnavailableError); on failure or when the
 * deadline fires the socket is destroyed.
 */
export function dialTcp(ip: string, port: number, deadline: Deadline, localAddress?: string): Promise<Socket> {
  let socket: Socket | undefined;
  return abortable<Socket>(
    deadline,
    (resolve, reject) => {
      const s = netConnect(localAddress === undefined ? { host: ip, port } : { host: ip, port, localAddress });
      socket = s;
      const onError = (err: Error): void => reject(sourceBindError(err, localAddress, undefined));
      s.once('error', onError);
      s.once('connect', () => {
        s.removeListener('error', onError);
        resolve(s);
      });
    },
    () => destroyQuietly(socket),
  );
}

/** Destroys a socket, swallowing the errors it may still emit. */
export function destroyQuietly(socket: Socket | undefined): void {
  if (!socket) return;
  socket.on('error', () => undefined);
  socket.destroy();
}
