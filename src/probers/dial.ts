/**
 * Dialling helpers shared by the http, tcp and tls probers: one deadline per probe, a timed
 * dns phase through the probe's resolver, a TCP connect and a TLS handshake that all stop the
 * moment the deadline fires. Failures are rejections carrying the low-level error (or the
 * deadline's reason); the probers classify them with the phase they were in.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { ProbeResult } from './types.js';
import type { FailurePhase } from './failure.js';
import type { Phase } from './reasons.js';
import type { TargetKind } from '../config/schema.js';
import { sourceBindError } from './source.js';

/** TLS trust settings the probers accept (the default is the system's trust store). */
export interface TrustOptions {
  /** CA certificates (PEM) to trust instead of the built-in roots; for tests and private PKI. */
  ca?: string | string[];
}

/**
 * Deadlines still running, by the outer (daemon stop) signal they follow. One listener on the
 * outer signal serves all of them: many probes in flight would otherwise each add and remove
 * an EventTarget listener on the same signal, which costs time linear in their number.
 */
const following = new WeakMap<AbortSignal, Set<Deadline>>();

function follow(outer: AbortSignal, deadline: Deadline): void {
  let set = following.get(outer);
  if (!set) {
    const members = new Set<Deadline>();
    set = members;
    following.set(outer, members);
    outer.addEventListener(
      'abort',
      () => {
        for (const d of [...members]) d.outerAborted();
        members.clear();
      },
      { once: true },
    );
  }
  set.add(deadline);
}

function unfollow(outer: AbortSignal, deadline: Deadline): void {
  following.get(outer)?.delete(deadline);
}

/**
 * Ends when the probe's time is up or the daemon stops; always dispose() it. The steps of a
 * probe subscribe with onFire() (cheap); `signal` is an AbortSignal for APIs that want one,
 * made only when asked for.
 */
export class Deadline {
  private readonly timer: NodeJS.Timeout;
  private controller: AbortController | null = null;
  private listeners: (() => void)[] = [];
  private cause: Error | null = null;
  private disposed = false;

  constructor(
    readonly timeoutMs: number,
    private readonly outer: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.fire(new DOMException('probe timed out', 'TimeoutError')), timeoutMs);
    if (outer.aborted) this.outerAborted();
    else follow(outer, this);
  }

  /** True once the deadline fired (time up or the daemon stopping). */
  get fired(): boolean {
    return this.cause !== null;
  }

  /** Why it fired: a DOMException TimeoutError (time up) or AbortError (daemon stopping). */
  get reason(): Error {
    return this.cause ?? new DOMException('probe aborted', 'AbortError');
  }

  /** An AbortSignal that aborts with `reason` when the deadline fires. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cause) this.controller.abort(this.cause);
    }
    return this.controller.signal;
  }

  /**
   * Calls `fn` once when the deadline fires (at once if it already has); the returned function
   * cancels that.
   */
  onFire(fn: () => void): () => void {
    if (this.cause) {
      fn();
      return () => undefined;
    }
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Why the deadline fired, for `detail`; null while it has not. */
  describe(): string | null {
    if (!this.cause) return null;
    return this.outer.aborted ? 'probe aborted' : `no answer within ${this.timeoutMs} ms`;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    unfollow(this.outer, this);
  }

  /** @internal The outer signal aborted (the daemon is stopping). */
  outerAborted(): void {
    this.fire(new DOMException('probe aborted', 'AbortError'));
  }

  private fire(cause: Error): void {
    if (this.cause || this.disposed) return;
    this.cause = cause;
    clearTimeout(this.timer);
    unfollow(this.outer, this);
    this.controller?.abort(cause);
    const listeners = this.listeners;
    this.listeners = [];
    for (const fn of listeners) fn();
  }
}

/** The signal's reason as an Error (a DOMException AbortError when it gave none). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('probe aborted', 'AbortError');
}

/** An IP literal (also "[v6]" as in a URL host) without brackets, or null for a name. */
export function ipLiteral(host: string): string | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) !== 0 ? bare : null;
}

/**
 * Phase timings and the phase in progress for one probe. `run` times a step into a phase and
 * records which failure phase it belongs to, so a failure is classified by where it happened.
 */
export class ProbeClock {
  readonly at = Date.now();
  private readonly start = performance.now();
  readonly phases: Partial<Record<Phase, number>> = {};
  /** The failure phase of the step in progress (or the last one started). */
  current: FailurePhase = 'dns';

  /** Runs `step` as `failurePhase`, adding its duration to `phase` when it succeeds. */
  async run<T>(failurePhase: FailurePhase, phase: Phase, step: () => Promise<T>): Promise<T> {
    this.current = failurePhase;
    const t0 = performance.now();
    const value = await step();
    this.phases[phase] = (this.phases[phase] ?? 0) + (performance.now() - t0) / 1000;
    return value;
  }

  /** A result with `total` set to the time since the clock started. */
  result(target: string, kind: TargetKind, fields: Pick<ProbeResult, 'ok' | 'reason' | 'ip'> & Partial<ProbeResult>): ProbeResult {
    return probeResult({ target, kind, at: this.at }, fields, Object.assign({}, this.phases, { total: (performance.now() - this.start) / 1000 }));
  }
}

/**
 * `head`, then `fields`, then `phases`, as one result object. Object.assign rather than an
 * object spread followed by more keys: V8 gives every object made by such a spread a hidden
 * class of its own, a cost per probe and, for the results kept per target, memory per target.
 */
export function probeResult(
  head: Pick<ProbeResult, 'target' | 'kind' | 'at'>,
  fields: Pick<ProbeResult, 'ok' | 'reason' | 'ip'> & Partial<ProbeResult>,
  phases: ProbeResult['phases'],
): ProbeResult {
  return Object.assign(head, fields, { phases });
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
 * Runs `setup(resolve, reject)` inside a promise that rejects with the deadline's reason as
 * soon as it fires; `onFail` runs once, before the promise settles, when it fails (the deadline
 * included).
 */
export function abortable<T>(
  deadline: Deadline,
  setup: (resolve: (value: T) => void, reject: (err: unknown) => void) => void,
  onFail: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let unsubscribe: (() => void) | null = null;
    const finish = (failed: boolean): boolean => {
      if (done) return false;
      done = true;
      unsubscribe?.();
      if (failed) onFail();
      return true;
    };
    unsubscribe = deadline.onFire(() => {
      if (finish(true)) reject(deadline.reason);
    });
    if (done) return;
    setup(
      (value) => {
        if (finish(false)) resolve(value);
      },
      (err) => {
        if (finish(true)) reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
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

export interface HandshakeOptions extends TrustOptions {
  /** SNI; omitted when undefined. */
  servername: string | undefined;
  /** Verify the chain and the host name (against servername, else `verifyHost`). */
  verify: boolean;
  /** The name the certificate must match when there is no servername (an IP literal). */
  verifyHost: string;
  alpn?: string[];
}

/**
 * Client TLS contexts by trusted CA (the empty key: the system's roots). tls.connect would
 * otherwise build a SecureContext per connection, a quarter of a DoT probe's CPU. A shared
 * context resumes no session (Node's contexts keep no internal session cache; a client resumes
 * only when handed a session), so every probe still does a full handshake; SNI, ALPN and the
 * verification settings are per connection.
 */
const contexts = new Map<string, SecureContext>();
/** Distinct CA sets kept at most (tests make one per run; the daemon uses one). */
const MAX_CONTEXTS = 16;

function clientContext(ca: string | string[] | undefined): SecureContext {
  const key = ca === undefined ? '' : Array.isArray(ca) ? ca.join('\n') : ca;
  let context = contexts.get(key);
  if (!context) {
    if (contexts.size >= MAX_CONTEXTS) contexts.clear();
    context = createSecureContext(ca === undefined ? {} : { ca });
    contexts.set(key, context);
  }
  return context;
}

/**
 * Runs a TLS handshake over the connected `socket`. Rejects with the handshake error (a
 * certificate that fails verification included) or the deadline's reason; on failure both
 * sockets are destroyed.
 */
export function handshakeTls(socket: Socket, opts: HandshakeOptions, deadline: Deadline): Promise<TLSSocket> {
  let tls: TLSSocket | undefined;
  return abortable<TLSSocket>(
    deadline,
    (resolve, reject) => {
      const t = tlsConnect({
        socket,
        // An empty servername would still be sent as SNI by some versions; leave it out.
        ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
        host: opts.servername ?? opts.verifyHost,
        rejectUnauthorized: opts.verify,
        secureContext: clientContext(opts.ca),
        ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
      });
      tls = t;
      const onError = (err: Error): void => reject(err);
      t.once('error', onError);
      t.once('secureConnect', () => {
        t.removeListener('error', onError);
        resolve(t);
      });
    },
    () => {
      destroyQuietly(tls);
      destroyQuietly(socket);
    },
  );
}

/** The leaf certificate's notAfter in epoch seconds, when the peer sent one. */
export function certExpiry(socket: TLSSocket): number | undefined {
  // The X509Certificate rather than getPeerCertificate(), which renders every field of the
  // certificate into an object (a tenth of a DoT probe's CPU) for the one date used here.
  const cert = socket.getPeerX509Certificate();
  const ms = cert ? Date.parse(cert.validTo) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** Destroys a socket, swallowing the errors it may still emit. */
export function destroyQuietly(socket: Socket | undefined): void {
  if (!socket) return;
  socket.on('error', () => undefined);
  socket.destroy();
}
