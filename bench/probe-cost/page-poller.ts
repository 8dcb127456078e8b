/**
 * What a watched daemon serves besides probing (issue 24 goal: a scrape, the page and the API
 * together add at most 1% to the per-probe CPU cost): every second, the status page `/`, the
 * status and series APIs and a /metrics scrape, fetched at once and read to the end, as an open
 * page polling and a Prometheus scraping at 1 s would. Runs in the benchmark's process, so its
 * own CPU is not the daemon's.
 */
import { clearInterval, setInterval } from 'node:timers';

/** The paths polled each second. */
export const POLLED_PATHS = ['/', '/api/v1/status', '/api/v1/series', '/metrics'] as const;

/** Cumulative figures of a poller. */
export interface PollCounts {
  /** Requests answered 200 and read to the end. */
  ok: number;
  /** Requests that failed or answered anything else. */
  failed: number;
  /** Body bytes read. */
  bytes: number;
  /** Rounds skipped because the previous one was still in flight. */
  skipped: number;
}

export interface PagePoller {
  counts(): PollCounts;
  /** Stops polling and waits for the round in flight. */
  stop(): Promise<void>;
}

/** Polls POLLED_PATHS on the daemon listening on `listen` every `everyMs` until stopped. */
export function pollPage(listen: string, everyMs = 1000): PagePoller {
  const counts: PollCounts = { ok: 0, failed: 0, bytes: 0, skipped: 0 };
  let inFlight: Promise<void> | null = null;
  const fetchOne = async (path: string): Promise<void> => {
    try {
      const res = await fetch(`http://${listen}${path}`, { signal: AbortSignal.timeout(5000) });
      const body = await res.arrayBuffer();
      counts.bytes += body.byteLength;
      if (res.ok) counts.ok++;
      else counts.failed++;
    } catch {
      counts.failed++;
    }
  };
  const round = (): void => {
    if (inFlight !== null) {
      counts.skipped++;
      return;
    }
    inFlight = Promise.all(POLLED_PATHS.map(fetchOne)).then(() => {
      inFlight = null;
    });
  };
  const timer = setInterval(round, everyMs);
  round();
  return {
    counts: () => ({ ...counts }),
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
