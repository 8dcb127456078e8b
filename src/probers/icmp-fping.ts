/**
 * ICMP echo through the system's fping (docs/icmp.md): probes that arrive within a short window
 * are sent by one fping process (`fping -c1 -r0 -i0 -t T addr...`), whose per-host lines are
 * read as they stream in. One process per batch, not per probe: spawning costs about a
 * millisecond of CPU, a batch of hundreds of addresses costs fping little more than one.
 * fping opens a raw socket (CAP_NET_RAW, Debian ships it with that file capability) or, when it
 * cannot and net.ipv4.ping_group_range allows, an ICMP datagram socket (fping >= 5.2).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** What fping said about one address. */
export type EchoOutcome =
  | { kind: 'reply'; rttMs: number }
  | { kind: 'timeout' }
  /** An ICMP destination unreachable came back: `code` is a stable label (docs/reasons.md). */
  | { kind: 'unreachable'; code: UnreachableCode; from: string; text: string }
  /** fping could not be run or failed as a whole (not installed, not permitted, bad options). */
  | { kind: 'error'; detail: string };

/** The labels icmp_unreachable details carry. */
export const UNREACHABLE_CODES = ['net', 'host', 'port', 'protocol', 'admin-prohibited', 'other'] as const;
export type UnreachableCode = (typeof UNREACHABLE_CODES)[number];

/** Maps fping's text of an ICMP/ICMPv6 unreachable message to its label. */
export function unreachableCode(text: string): UnreachableCode {
  // Codes 9, 10 and 13 (and ICMPv6 code 1) are all "administratively prohibited" filters.
  if (/prohibited/i.test(text)) return 'admin-prohibited';
  if (/port unreachable/i.test(text)) return 'port';
  if (/protocol unreachable/i.test(text)) return 'protocol';
  if (/host unreachable|host unknown|no route/i.test(text)) return 'host';
  if (/net(work)? unreachable|network unknown/i.test(text)) return 'net';
  return 'other';
}

/** One parsed line of fping's output in count mode; null for lines that say nothing per host. */
export type FpingLine = { host: string; outcome: EchoOutcome } | null;

const REPLY = /^(\S+)\s*: \[\d+\], \d+ bytes, ([\d.]+) ms/;
const TIMED_OUT = /^(\S+)\s*: \[\d+\], timed out/;
const UNREACH = /^(ICMP\S*\s+.*?) from (\S+) for ICMP\S* Echo sent to (\S+)/;

/** Parses one line of `fping -c1` stdout or stderr. */
export function parseFpingLine(line: string): FpingLine {
  let m = REPLY.exec(line);
  if (m) return { host: m[1] as string, outcome: { kind: 'reply', rttMs: Number(m[2]) } };
  m = TIMED_OUT.exec(line);
  if (m) return { host: m[1] as string, outcome: { kind: 'timeout' } };
  m = UNREACH.exec(line);
  if (m) {
    const text = m[1] as string;
    // fping also reports other ICMP errors (time exceeded, ...) this way; only unreachables count.
    if (!/unreachable|prohibited|unknown/i.test(text)) return null;
    return { host: m[3] as string, outcome: { kind: 'unreachable', code: unreachableCode(text), from: m[2] as string, text } };
  }
  return null;
}

export interface FpingOptions {
  /** The fping executable (default: `fping` on PATH). */
  command?: string;
  /** How long the first probe of a batch waits for others (ms). */
  batchWindowMs?: number;
  /**
   * Most addresses per fping process (default 128). A full batch goes at once: every probe
   * waiting in a batch holds one of the scheduler's `concurrency` slots, so at high rates batches
   * must fill and leave well before the window ends.
   */
  maxBatch?: number;
}

interface Waiter {
  resolve: (o: EchoOutcome) => void;
}

interface Batch {
  /** timeout and source: requests that can share one fping run. */
  key: string;
  timeoutMs: number;
  sourceAddress: string | undefined;
  /** When its first request arrived (performance.now()). */
  opened: number;
  timer: NodeJS.Timeout | null;
  waiters: Map<string, Waiter[]>;
}

/** Margin kept between fping's own timeout and the probe's deadline (ms). */
const DEADLINE_MARGIN_MS = 50;

/**
 * Batches echo requests into fping runs. Requests are grouped by their timeout; a batch is
 * sent when the window after its first request ends or it is full. fping's wait per address is
 * the timeout less the time the oldest request spent waiting, less a margin, so every answer
 * arrives before its probe's deadline. The same address asked twice in a batch is pinged once.
 */
export class FpingPinger {
  private readonly command: string;
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private readonly open = new Map<string, Batch>();
  private readonly running = new Set<ReturnType<typeof spawn>>();

  constructor(opts: FpingOptions = {}) {
    this.command = opts.command ?? 'fping';
    this.windowMs = opts.batchWindowMs ?? 500;
    this.maxBatch = opts.maxBatch ?? 128;
  }

  /**
   * Echoes `address` (an IP literal) once, from `sourceAddress` when given (fping -S: a source
   * binding, src/probers/source.ts); never rejects. Batches are per timeout and source.
   */
  echo(address: string, timeoutMs: number, sourceAddress?: string): Promise<EchoOutcome> {
    return new Promise((resolve) => {
      const key = `${timeoutMs}|${sourceAddress ?? ''}`;
      let batch = this.open.get(key);
      if (!batch) {
        const b: Batch = { key, timeoutMs, sourceAddress, opened: performance.now(), timer: null, waiters: new Map() };
        b.timer = setTimeout(() => this.flush(b), Math.min(this.windowMs, timeoutMs / 4));
        this.open.set(key, b);
        batch = b;
      }
      const list = batch.waiters.get(address);
      if (list) list.push({ resolve });
      else batch.waiters.set(address, [{ resolve }]);
      if (batch.waiters.size >= this.maxBatch) this.flush(batch);
    });
  }

  /** Kills running fping processes; their waiters resolve as errors. */
  close(): void {
    for (const b of [...this.open.values()]) this.flush(b);
    for (const child of this.running) child.kill('SIGKILL');
  }

  private flush(batch: Batch): void {
    if (this.open.get(batch.key) === batch) this.open.delete(batch.key);
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = null;
    const waited = performance.now() - batch.opened;
    const fpingTimeout = Math.max(1, Math.floor(batch.timeoutMs - waited - DEADLINE_MARGIN_MS));
    this.run(batch.waiters, fpingTimeout, batch.sourceAddress);
  }

  private run(waiters: Map<string, Waiter[]>, timeoutMs: number, sourceAddress: string | undefined): void {
    const settle = (host: string, outcome: EchoOutcome): void => {
      const list = waiters.get(host);
      if (!list) return;
      waiters.delete(host);
      for (const w of list) w.resolve(outcome);
    };
    const settleAll = (outcome: EchoOutcome): void => {
      for (const host of [...waiters.keys()]) settle(host, outcome);
    };
    const args = ['-c1', '-r0', '-i0', `-t${timeoutMs}`, ...(sourceAddress !== undefined ? ['-S', sourceAddress] : []), ...waiters.keys()];
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(this.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      settleAll({ kind: 'error', detail: `cannot run ${this.command}: ${String(err)}` });
      return;
    }
    this.running.add(child);
    const other: string[] = [];
    const onLine = (line: string): void => {
      const parsed = parseFpingLine(line);
      if (parsed) settle(parsed.host, parsed.outcome);
      else if (line.trim() !== '' && !line.includes('xmt/rcv') && other.length < 5) other.push(line.trim());
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
    // A safety net: fping ends by itself once every address answered or timed out.
    const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
    child.once('error', (err) => {
      clearTimeout(guard);
      this.running.delete(child);
      settleAll({ kind: 'error', detail: `cannot run ${this.command}: ${err.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      this.running.delete(child);
      // Exit 0: all answered; 1: some did not; 2: an address was not found. Anything else
      // (3 bad arguments, 4 a system call failed, e.g. no permission for any ICMP socket) or a
      // signal is a failure of fping itself, not of the targets.
      if (signal !== null || (code !== 0 && code !== 1 && code !== 2)) {
        const why = signal !== null ? `killed by ${signal}` : `exited ${String(code)}`;
        settleAll({ kind: 'error', detail: `${this.command} ${why}${other.length > 0 ? `: ${other.join(' | ')}` : ''}` });
        return;
      }
      // Addresses fping printed nothing for: a send that failed locally (no route), which fping
      // does not report per host; the prober tells that apart from a plain timeout.
      settleAll({ kind: 'timeout' });
    });
  }
}
