/**
 * Which of the capabilities `lookout simulate` needs the current process lacks, read from the
 * effective set in /proc/self/status. Root in a container usually runs with a reduced set:
 * without CAP_SYS_ADMIN it cannot make the network namespace, without CAP_NET_ADMIN it cannot
 * bring up loopback or load iptables rules there. Naming the missing one turns "Operation not
 * permitted" into the flag to add.
 */
import { readFile } from 'node:fs/promises';

/** Bit numbers from linux/capability.h. */
const BITS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21 } as const;

export type CapabilityName = keyof typeof BITS;

/** The simulate command's needs, in the order they bite. */
export const SIMULATE_CAPABILITIES: readonly CapabilityName[] = ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'];

/**
 * The capabilities of `wanted` missing from the `CapEff:` line of a /proc/PID/status text, in
 * the order given; null when the text has no readable CapEff line.
 */
export function missingFromStatus(status: string, wanted: readonly CapabilityName[]): CapabilityName[] | null {
  const hex = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status)?.[1];
  if (hex === undefined) return null;
  const effective = BigInt(`0x${hex}`);
  return wanted.filter((name) => ((effective >> BigInt(BITS[name])) & 1n) === 0n);
}

/** missingFromStatus() of this process; null where /proc/self/status cannot be read. */
export async function missingCapabilities(wanted: readonly CapabilityName[]): Promise<CapabilityName[] | null> {
  let status: string;
  try {
    status = await readFile('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  return missingFromStatus(status, wanted);
}

/**
 * A sentence naming the missing capabilities and the container flags that grant them, or ''
 * when none is missing (or it cannot be told).
 */
export function describeMissing(missing: readonly CapabilityName[] | null): string {
  if (missing === null || missing.length === 0) return '';
  const flags = missing.map((name) => `--cap-add ${name.replace(/^CAP_/, '')}`).join(' ');
  return ` Missing here: ${missing.join(', ')} (in a container: ${flags}).`;
}
