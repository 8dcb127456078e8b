/**
 * The guard in front of every kernel fault: iptables and tc may only ever run inside a private,
 * loopback-only network namespace (the one scripts/netns-run.sh or `lookout simulate` makes),
 * never in the host's.
 *
 * A namespace counts as private when
 *   - it is not PID 1's network namespace (when /proc/1/ns/net is readable; in containers and
 *     micro-VMs it often is not), and
 *   - its only interface is `lo` and it has no IPv4 or IPv6 route through any other device.
 * The second condition is always required, not only as a fallback: the simulated world is
 * loopback-only, so a namespace with a way out is never the right place for faults.
 * Interfaces and routes come from /proc/self/net (per namespace), not /sys/class/net, which
 * shows the namespace that mounted sysfs and so still lists the host's devices after unshare -n.
 */
import { readFile, readlink } from 'node:fs/promises';

async function readOrNull(read: () => Promise<string>): Promise<string | null> {
  try {
    return await read();
  } catch {
    return null;
  }
}

/** Interface names from /proc/self/net/dev (two header lines, then "name: counters"). */
function interfaceNames(dev: string): string[] {
  return dev
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter((name) => name !== '');
}

/** Devices of the IPv4 routes in /proc/self/net/route (a header line, device first). */
function ipv4RouteDevices(table: string): string[] {
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((dev) => dev !== '');
}

/** Devices of the IPv6 routes in /proc/self/net/ipv6_route (no header, device last). */
function ipv6RouteDevices(table: string): string[] {
  return table
    .split('\n')
    .map((line) => line.trim().split(/\s+/).at(-1) ?? '')
    .filter((dev) => dev !== '');
}

/** Why this process is not in a private loopback-only namespace, or null when it is. */
async function whyNotPrivate(): Promise<string | null> {
  const self = await readOrNull(() => readlink('/proc/self/ns/net'));
  if (self === null) return 'cannot read /proc/self/ns/net';
  const init = await readOrNull(() => readlink('/proc/1/ns/net'));
  if (init !== null && init === self) return `this process shares PID 1's network namespace (${self})`;

  const dev = await readOrNull(() => readFile('/proc/self/net/dev', 'utf8'));
  if (dev === null) return 'cannot read /proc/self/net/dev';
  const foreign = interfaceNames(dev).filter((name) => name !== 'lo');
  if (foreign.length > 0) return `the namespace has non-loopback interfaces (${foreign.join(', ')})`;

  const v4 = await readOrNull(() => readFile('/proc/self/net/route', 'utf8'));
  if (v4 === null) return 'cannot read /proc/self/net/route';
  // ipv6_route is absent when IPv6 is disabled: then there are no IPv6 routes.
  const v6 = (await readOrNull(() => readFile('/proc/self/net/ipv6_route', 'utf8'))) ?? '';
  const routed = [...ipv4RouteDevices(v4), ...ipv6RouteDevices(v6)].filter((d) => d !== 'lo');
  if (routed.length > 0) return `the namespace has routes through ${[...new Set(routed)].join(', ')}`;
  return null;
}

/** True when this process runs in a private, loopback-only network namespace (see above). */
export async function inPrivateNetns(): Promise<boolean> {
  return (await whyNotPrivate()) === null;
}

/**
 * Resolves when this process runs in a private, loopback-only network namespace; rejects with
 * an Error saying why not otherwise. Call it before every iptables or tc invocation.
 */
export async function assertPrivateNetns(): Promise<void> {
  const why = await whyNotPrivate();
  if (why !== null) {
    throw new Error(`refusing to inject network faults outside a private network namespace: ${why} (run under scripts/netns-run.sh)`);
  }
}
