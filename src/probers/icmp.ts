/**
 * The icmp prober: one ICMP echo to a host, or to each host of a block (up when any answers).
 * Phases dns (names only) and total (the rtt of the first reply; on failure, the time spent).
 * The echo itself goes through the batching fping runner (icmp-fping.ts, docs/icmp.md).
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { IcmpResolved } from '../config/schema.js';
import { abortable, Deadline } from './deadline.js';
import { ProbeClock, probeResult } from './probe-clock.js';
import { ipLiteral, resolveHost } from './dial.js';
import { classifyError, describeError } from './failure.js';
import { FpingPinger, type EchoOutcome } from './icmp-fping.js';
import { localAddressFor } from './source.js';
import type { FailureReason } from './reasons.js';
import type { HostResolver, Prober, ProbeResult } from './types.js';

/** Sends one echo; the prober's only dependency on how echoes are sent (tests swap it). */
export interface Pinger {
  echo(address: string, timeoutMs: number, sourceAddress?: string): Promise<EchoOutcome>;
}

const LOCAL_UNREACHABLE = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EACCES', 'EPERM', 'ENETDOWN', 'EHOSTDOWN']);

/**
 * Whether the vantage has no route to `address`: a UDP connect does the kernel's route lookup
 * and sends nothing. An `unreachable` or `prohibit` route, or none at all, fails it the way
 * an echo's send failed (fping reports such a send failure for no host in particular).
 * Resolves with the error code, or null when there is a route.
 */
export function localRouteError(address: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    let done = false;
    const finish = (code: string | null): void => {
      if (done) return;
      done = true;
      socket.close();
      resolve(code);
    };
    const codeOf = (err: unknown): string => {
      const code = (err as { code?: unknown } | null)?.code;
      return typeof code === 'string' ? code : 'ERROR';
    };
    socket.on('error', (err) => finish(codeOf(err)));
    // Port 9 (discard): nothing is sent by a UDP connect, the port only completes the address.
    // Node hands a failed route lookup to the callback (its typings say it takes no argument).
    socket.connect(9, address, (...args: unknown[]) => finish(args[0] ? codeOf(args[0]) : null));
  });
}

/** How the addresses of a block fared, for the result. */
interface Tally {
  replies: { ip: string; rttMs: number }[];
  unreachable: { ip: string; outcome: Extract<EchoOutcome, { kind: 'unreachable' }> }[];
  timeouts: string[];
  errors: string[];
}

function tally(addresses: string[], outcomes: EchoOutcome[]): Tally {
  const t: Tally = { replies: [], unreachable: [], timeouts: [], errors: [] };
  outcomes.forEach((o, i) => {
    const ip = addresses[i] as string;
    if (o.kind === 'reply') t.replies.push({ ip, rttMs: o.rttMs });
    else if (o.kind === 'unreachable') t.unreachable.push({ ip, outcome: o });
    else if (o.kind === 'timeout') t.timeouts.push(ip);
    else t.errors.push(o.detail);
  });
  return t;
}

/** Resolves every host of the target; names that fail are left out (their errors kept). */
async function resolveAll(
  hosts: string[],
  resolver: HostResolver,
  clock: ProbeClock,
  deadline: Deadline,
): Promise<{ addresses: string[]; errors: unknown[] }> {
  const addresses: string[] = [];
  const errors: unknown[] = [];
  const names: string[] = [];
  for (const h of hosts) {
    const literal = ipLiteral(h);
    if (literal !== null) addresses.push(literal);
    else names.push(h);
  }
  if (names.length > 0) {
    const settled = await Promise.allSettled(names.map((n) => resolveHost(n, resolver, clock, deadline)));
    for (const s of settled) {
      if (s.status === 'fulfilled') addresses.push(s.value);
      else errors.push(s.reason);
    }
  }
  return { addresses: [...new Set(addresses)], errors };
}

/** Timeouts handed to the pinger are rounded down to this step, so probes share fping runs. */
const TIMEOUT_STEP_MS = 100;

/**
 * Makes the icmp prober around `pinger`. Contract as every prober's: never rejects for a network
 * outcome. ok when any address answered; `total` is the smallest rtt (the first reply), `ip` the
 * address that gave it, `detail` "N/M answered" for a block. All failed: icmp_unreachable when
 * any answered with an ICMP unreachable (detail starts with its label: net, host, port,
 * protocol, admin-prohibited, other), else network_unreachable when the vantage has no route
 * to any of them, else icmp_timeout. A name that does not resolve fails as the dns reasons.
 */
export function makeIcmpProber(pinger: Pinger): Prober<IcmpResolved> {
  return async (target, ctx) => {
    const clock = new ProbeClock();
    const t0 = performance.now();
    const deadline = new Deadline(ctx.timeoutMs, ctx.signal);
    const hosts = target.hosts ?? (target.host !== undefined ? [target.host] : []);
    const fail = (reason: FailureReason, ip: string | null, detail: string): ProbeResult =>
      clock.result(target.id, 'icmp', { ok: false, reason, ip, detail });
    try {
      const { addresses, errors } = await resolveAll(hosts, ctx.resolver, clock, deadline);
      if (addresses.length === 0) {
        const err = errors[0];
        return fail(deadline.fired ? 'dns_timeout' : classifyError(err, 'dns'), null, deadline.describe() ?? describeError(err));
      }
      const spent = performance.now() - t0;
      const remaining = ctx.timeoutMs - spent;
      // IP literals only (no dns phase): the whole timeout, so probes of one timeout share runs.
      const budget = spent < 5 ? ctx.timeoutMs : Math.max(TIMEOUT_STEP_MS, Math.floor(remaining / TIMEOUT_STEP_MS) * TIMEOUT_STEP_MS);
      let sourceAddresses: (string | undefined)[];
      try {
        sourceAddresses = addresses.map((a) => localAddressFor(ctx.source, a));
      } catch (err) {
        return fail(classifyError(err, 'connect'), addresses[0] ?? null, describeError(err));
      }
      const outcomes = await abortable<EchoOutcome[]>(
        deadline,
        (resolve) => {
          void Promise.all(addresses.map((a, i) => pinger.echo(a, budget, sourceAddresses[i]))).then(resolve);
        },
        () => undefined,
      );
      const t = tally(addresses, outcomes);
      const of = `${t.replies.length}/${addresses.length} answered`;
      if (t.replies.length > 0) {
        const first = t.replies.reduce((a, b) => (b.rttMs < a.rttMs ? b : a));
        return probeResult(
          { target: target.id, kind: 'icmp', at: clock.at },
          { ok: true, reason: null, ip: first.ip, ...(addresses.length > 1 ? { detail: of } : {}) },
          Object.assign({}, clock.phases, { total: first.rttMs / 1000 }),
        );
      }
      const block = addresses.length > 1 ? `; ${of}` : '';
      if (t.errors.length > 0 && t.unreachable.length === 0) return fail('unknown', addresses[0] ?? null, `icmp: ${t.errors[0] ?? ''}`);
      const u = t.unreachable[0];
      if (u) return fail('icmp_unreachable', u.ip, `${u.outcome.code}: ${u.outcome.text} from ${u.outcome.from}${block}`);
      const routes = await Promise.all(t.timeouts.map((a) => localRouteError(a)));
      const unroutable = routes.filter((r) => r !== null && LOCAL_UNREACHABLE.has(r));
      if (unroutable.length === t.timeouts.length && unroutable.length > 0) {
        return fail('network_unreachable', t.timeouts[0] ?? null, `no route: ${unroutable[0] ?? ''}${block}`);
      }
      return fail('icmp_timeout', t.timeouts[0] ?? null, `no echo reply within ${budget} ms${block}`);
    } catch (err) {
      const detail = deadline.describe() ?? describeError(err);
      return fail(deadline.fired ? 'icmp_timeout' : 'unknown', null, detail);
    } finally {
      deadline.dispose();
    }
  };
}

let shared: Prober<IcmpResolved> | null = null;

/** The daemon's icmp prober: one shared fping runner, made on first use. */
export const probeIcmp: Prober<IcmpResolved> = (target, ctx) => {
  shared ??= makeIcmpProber(new FpingPinger());
  return shared(target, ctx);
};
