import type { ResolvedTarget, SourceBinding, TargetKind } from '../config/schema.js';
import type { FailureReason, Phase } from './reasons.js';

/**
 * The outcome of one probe. Network failures are data: `ok: false` with a stable `reason`.
 * Recorded as one JSON object per line by `storage.record_results` and read back by `replay`.
 */
export interface ProbeResult {
  /** Target id. */
  target: string;
  kind: TargetKind;
  ok: boolean;
  /** null when ok. */
  reason: FailureReason | null;
  /** Seconds per phase; a phase that was not reached is absent. `total` is always present. */
  phases: Partial<Record<Phase, number>>;
  /** The address actually dialled (or queried, for dns), null when none was reached. */
  ip: string | null;
  /** Start of the probe, epoch milliseconds. */
  at: number;
  /** HTTP status code when a response arrived. */
  status?: number;
  /** Leaf certificate notAfter, epoch seconds, for tls, https, dot and doh probes that got a certificate. */
  cert_expiry?: number;
  /** Human-readable detail for logs (never a metric label). */
  detail?: string;
  /** True when this result came from a confirm re-probe after a failure. */
  confirm?: boolean;
}

/** Resolves a host name to addresses; the http, tcp and tls probers use it for the dns phase. */
export interface HostResolver {
  /** Resolves to at least one address or rejects with a Node DNS error (err.code like ENOTFOUND). */
  resolve(host: string, signal: AbortSignal): Promise<string[]>;
}

/** What the scheduler hands to a prober for one probe. */
export interface ProbeContext {
  /** Effective timeout for the whole probe, milliseconds. */
  timeoutMs: number;
  /** Aborted when the daemon stops; a prober returns promptly (any result) once aborted. */
  signal: AbortSignal;
  resolver: HostResolver;
  /**
   * The target's source binding (absent: the default route). Every socket the prober opens
   * binds to `localAddressFor(ctx.source, ip)` (src/probers/source.ts); a binding that cannot be
   * used fails the probe as source_unavailable.
   */
  source?: SourceBinding;
}

/**
 * One prober per target kind. Contract: never rejects for a network outcome; resolves with a
 * ProbeResult whose `total` phase is set; rejects only for bugs. Finishes within timeoutMs plus
 * a small margin.
 */
export type Prober<T extends ResolvedTarget = ResolvedTarget> = (
  target: T,
  ctx: ProbeContext,
) => Promise<ProbeResult>;
