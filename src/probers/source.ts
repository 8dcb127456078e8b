/**
 * Source binding: the local address a probe's sockets leave from (config `source:`, docs/design.md
 * "Source binding"). It is part of the dial path every prober shares:
 *
 * - The app puts the target's binding on the ProbeContext (`ctx.source`); unbound probes have none.
 * - Before opening a socket to `ip`, a prober calls `localAddressFor(ctx.source, ip)`: undefined
 *   when unbound (the kernel picks, as before), else the local address of ip's family. It throws a
 *   SourceUnavailableError (code LOOKOUT_SOURCE_UNAVAILABLE, classified `source_unavailable` in any
 *   phase) when the address family does not match or the interface is missing or has no address of
 *   that family.
 * - TCP: `dialTcp(ip, port, deadline, localAddress)` passes it as net.connect's localAddress
 *   (http, tcp, tls and any TLS-over-TCP kind: DoT, DoH's connection). UDP: bind the socket to it
 *   before connect (dns). Raw or ICMP sockets: bind likewise.
 * - A bind the kernel refuses (EADDRNOTAVAIL: the address is not on this host) is turned into the
 *   same error by `sourceBindError` (dialTcp and the dns prober do this).
 *
 * Node has no SO_BINDTODEVICE: `interface` means the interface's address, looked up at probe time,
 * and the kernel's routing decides the way out. On a multi-homed host that needs source-based
 * policy routing (one `ip rule add from <address> table <n>` per uplink), see the README.
 */
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { SourceBinding } from '../config/schema.js';

/** Error code of a binding that cannot be used now (classified source_unavailable). */
export const SOURCE_UNAVAILABLE_CODE = 'LOOKOUT_SOURCE_UNAVAILABLE';

export class SourceUnavailableError extends Error {
  readonly code = SOURCE_UNAVAILABLE_CODE;
}

/** How long one os.networkInterfaces() answer is reused: probes at 10,000 targets must not each ask. */
const INTERFACES_TTL_MS = 1000;
let cached: { at: number; interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> } | null = null;

function interfaces(now: number): NodeJS.Dict<NetworkInterfaceInfo[]> {
  if (cached === null || now - cached.at > INTERFACES_TTL_MS || now < cached.at) {
    cached = { at: now, interfaces: networkInterfaces() };
  }
  return cached.interfaces;
}

/**
 * The local address a socket to `ip` must bind to under `source`; undefined when unbound.
 * For an interface: its first address of ip's family, global addresses before IPv6 link-local
 * ones (a link-local source cannot reach a global destination).
 * @throws SourceUnavailableError when there is no usable address of that family.
 */
export function localAddressFor(source: SourceBinding | undefined, ip: string, now = Date.now()): string | undefined {
  if (source === undefined) return undefined;
  const family = isIP(ip) === 6 ? 6 : 4;
  if (source.address !== undefined) {
    if (isIP(source.address) !== family) {
      throw new SourceUnavailableError(`source ${source.name}: address ${source.address} cannot reach the IPv${family} address ${ip}`);
    }
    return source.address;
  }
  const addrs = interfaces(now)[source.interface];
  if (addrs === undefined) throw new SourceUnavailableError(`source ${source.name}: interface ${source.interface} not found`);
  const wanted = family === 6 ? 'IPv6' : 'IPv4';
  const same = addrs.filter((a) => a.family === wanted);
  const usable = same.find((a) => !(family === 6 && /^fe80:/i.test(a.address))) ?? same[0];
  if (usable === undefined) throw new SourceUnavailableError(`source ${source.name}: interface ${source.interface} has no ${wanted} address`);
  return usable.address;
}

/**
 * The error to report for a socket error while bound to `localAddress`: EADDRNOTAVAIL (the
 * address is not assigned here, or went away) becomes a SourceUnavailableError; anything else is
 * returned as it is.
 */
export function sourceBindError(err: Error, localAddress: string | undefined, name: string | undefined): Error {
  if (localAddress === undefined) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EADDRNOTAVAIL' && code !== 'EINVAL') return err;
  return new SourceUnavailableError(`source ${name ?? localAddress}: cannot bind ${localAddress} (${code})`, { cause: err });
}
