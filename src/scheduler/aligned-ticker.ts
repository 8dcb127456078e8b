/**
 * Calls `onTick(t)` at every multiple t of the period (epoch-aligned), passing t itself rather
 * than the wall clock, so that a live daemon evaluates at the same instants as a replay of its
 * recorded results.
 */
export interface AlignedTicker {
  stop(): void;
}

/** @param periodMs read before each tick, so a reload can change it. */
export function startAlignedTicker(periodMs: () => number, onTick: (at: number) => void, now: () => number = Date.now): AlignedTicker {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let last = -Infinity;
  const arm = (): void => {
    if (stopped) return;
    const period = periodMs();
    const t = now();
    // A timer can fire a few ms before the wall clock reaches its slot (Node times it from the
    // event loop's cached clock): the next tick is then still a slot ahead, never the same one.
    const next = Math.floor(Math.max(t, last) / period) * period + period;
    timer = setTimeout(() => {
      last = next;
      onTick(next);
      arm();
    }, next - t);
  };
  arm();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
