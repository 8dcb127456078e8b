/**
 * The one deadline of a probe: it fires when the probe's time is up or the daemon stops, and
 * every step of the probe (a lookup, a connect, a handshake, waiting for an answer) ends the
 * moment it does.
 */

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
