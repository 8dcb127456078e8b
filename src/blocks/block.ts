/**
 * IPv4 /24 blocks. A block is named by its number: the upper 24 bits of its addresses
 * (0 .. 2^24 - 1), so "a /24 of an address" is a shift and a block's addresses are its number
 * and a last octet. Addresses are 32-bit unsigned integers inside, dotted quads at the edges.
 */
import { isIPv4 } from 'node:net';

/** A /24 block: its addresses' upper 24 bits. */
export type BlockId = number;

/** The unsigned 32-bit value of a dotted quad; null when `text` is not an IPv4 address. */
export function ipv4ToInt(text: string): number | null {
  if (!isIPv4(text)) return null;
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

/** The dotted quad of an unsigned 32-bit value. */
export function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The block an address (as an integer) lies in. */
export function blockOfInt(address: number): BlockId {
  return address >>> 8;
}

/** The address `host` (last octet, 0-255) of block `b`, as a dotted quad. */
export function blockAddress(b: BlockId, host: number): string {
  return intToIpv4(((b << 8) >>> 0) + host);
}

/** The block as a prefix, "a.b.c.0/24". */
export function blockPrefix(b: BlockId): string {
  return `${blockAddress(b, 0)}/24`;
}

/** Every block an inclusive address range touches, in order (a /24 partly in the range counts). */
export function* blocksOfRange(start: number, end: number): Generator<BlockId> {
  for (let b = blockOfInt(start); b <= blockOfInt(end); b++) yield b;
}
