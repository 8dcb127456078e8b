/**
 * Where a target's probes fall in time. Due times are aligned to the wall clock:
 * due = k * interval + offset (epoch milliseconds), with a per-target offset taken from a stable
 * hash of its id, so a restart keeps every target's phase and many targets sharing one interval
 * spread evenly over it instead of bursting at the top of the minute.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32 bits, over the UTF-16 code units of `text`. Returns an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** Stable offset of `id` within an interval: an integer in [0, intervalMs). */
export function stableOffset(id: string, intervalMs: number): number {
  return fnv1a32(id) % intervalMs;
}

/** The first due time strictly after `afterMs`: the smallest k * interval + offset > afterMs. */
export function nextDueAfter(afterMs: number, intervalMs: number, offsetMs: number): number {
  const k = Math.floor((afterMs - offsetMs) / intervalMs) + 1;
  return k * intervalMs + offsetMs;
}

/** Normalizes an interval in milliseconds to a positive integer (the arithmetic above needs one). */
export function normalizeInterval(intervalMs: number): number {
  return Math.max(1, Math.round(intervalMs));
}
