/**
 * Real kernel faults for the simulated world: iptables rules in the OUTPUT chain of a private,
 * loopback-only network namespace. Each fault is one rule tagged
 * `-m comment --comment lookout-sim:<id>`, so it can be removed exactly, and `clear()` removes
 * every lookout-sim rule (also ones left by an earlier run).
 *
 * Safety: every method validates its inputs (CIDRs must lie inside 127.0.0.0/8) and then awaits
 * assertPrivateNetns() before iptables runs; outside a private namespace it rejects and runs
 * nothing. iptables is started with execFile (no shell). Operations are serialised.
 */
import { execFile } from 'node:child_process';
import { parseLoopbackCidr } from './addressing.js';
import { assertPrivateNetns } from './netns.js';

export const COMMENT_PREFIX = 'lookout-sim:';
const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const HOSTNAME_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/i;
const IPTABLES_TIMEOUT_MS = 10_000;

export interface FaultInjectorOptions {
  /** The iptables binary; default "iptables" from PATH. */
  iptables?: string;
}

function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw new Error(`invalid fault id "${id}" (expected a slug: a-z, 0-9, "-", "_", at most 63 characters)`);
}

function checkPort(id: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`fault ${id}: invalid port ${port}`);
}

function checkHostname(id: string, hostname: string): void {
  const labels = hostname.split('.');
  if (hostname.length > 253 || !labels.every((l) => HOSTNAME_LABEL.test(l))) {
    throw new Error(`fault ${id}: invalid hostname "${hostname}"`);
  }
}

function checkProbability(id: string, p: number): void {
  // 1 is allowed: certain loss is a blackhole for new connections only.
  if (!Number.isFinite(p) || p <= 0 || p > 1) throw new Error(`fault ${id}: probability must be in (0, 1], got ${p}`);
}

function cidrFor(id: string, cidr: string): string {
  try {
    return parseLoopbackCidr(cidr).cidr;
  } catch (err) {
    throw new Error(`fault ${id}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Splits one `iptables -S` line into arguments, honouring the double quotes iptables prints. */
export function splitRuleSpec(line: string): string[] {
  const args: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  }
  return args;
}

/** The fault id a listed OUTPUT rule carries, or null when it is not a lookout-sim rule. */
function faultIdOf(args: string[]): string | null {
  const at = args.indexOf('--comment');
  const comment = at >= 0 ? args[at + 1] : undefined;
  return comment?.startsWith(COMMENT_PREFIX) ? comment.slice(COMMENT_PREFIX.length) : null;
}

/** Injects and removes iptables faults; see the module comment. */
export class FaultInjector {
  private readonly iptables: string;
  private readonly ids = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FaultInjectorOptions = {}) {
    this.iptables = options.iptables ?? 'iptables';
  }

  /** Drops every packet to `cidr`: connects time out. */
  blackhole(id: string, cidr: string): Promise<void> {
    return this.add(id, () => [['-d', cidrFor(id, cidr)], ['DROP']]);
  }

  /** Answers TCP SYNs to `cidr` (optionally only to `port`) with a reset: connects are refused. */
  reset(id: string, cidr: string, port?: number): Promise<void> {
    return this.add(id, () => {
      if (port !== undefined) checkPort(id, port);
      const dport = port === undefined ? [] : ['--dport', String(port)];
      return [['-d', cidrFor(id, cidr), '-p', 'tcp', ...dport], ['REJECT', '--reject-with', 'tcp-reset']];
    });
  }

  /**
   * Resets TCP packets to `cidr` that carry `hostname` (a TLS ClientHello with that SNI, an HTTP
   * Host header); other names pass and the handshake itself is untouched.
   */
  sniFilter(id: string, cidr: string, hostname: string): Promise<void> {
    return this.add(id, () => {
      checkHostname(id, hostname);
      return [
        ['-d', cidrFor(id, cidr), '-p', 'tcp', '-m', 'string', '--string', hostname, '--algo', 'bm'],
        ['REJECT', '--reject-with', 'tcp-reset'],
      ];
    });
  }

  /** Answers every packet to `cidr` with ICMP network unreachable. */
  unreachable(id: string, cidr: string): Promise<void> {
    return this.add(id, () => [['-d', cidrFor(id, cidr)], ['REJECT', '--reject-with', 'icmp-net-unreachable']]);
  }

  /** Drops TCP SYNs to `cidr` with `probability` in (0, 1]: random connect loss, as under throttling. */
  loss(id: string, cidr: string, probability: number): Promise<void> {
    return this.add(id, () => {
      checkProbability(id, probability);
      return [
        ['-d', cidrFor(id, cidr), '-p', 'tcp', '--syn', '-m', 'statistic', '--mode', 'random', '--probability', String(probability)],
        ['DROP'],
      ];
    });
  }

  /** Deletes every OUTPUT rule tagged with `id`; resolves with how many were deleted. */
  remove(id: string): Promise<number> {
    return this.serial(async () => {
      checkId(id);
      await assertPrivateNetns();
      const deleted = await this.deleteWhere(id, (ruleId) => ruleId === id);
      this.ids.delete(id);
      return deleted;
    });
  }

  /** Deletes every lookout-sim rule in OUTPUT; resolves with how many were deleted. */
  clear(): Promise<number> {
    return this.serial(async () => {
      await assertPrivateNetns();
      const deleted = await this.deleteWhere('clear', () => true);
      this.ids.clear();
      return deleted;
    });
  }

  /** Ids of the faults this injector has applied and not yet removed, in the order applied. */
  active(): string[] {
    return [...this.ids];
  }

  /** `build` validates and returns [matches, target]; the comment goes between them. */
  private add(id: string, build: () => [string[], string[]]): Promise<void> {
    return this.serial(async () => {
      checkId(id);
      if (this.ids.has(id)) throw new Error(`fault ${id} is already active`);
      const [matches, target] = build();
      await assertPrivateNetns();
      await this.run(id, ['-A', 'OUTPUT', ...matches, '-m', 'comment', '--comment', COMMENT_PREFIX + id, '-j', ...target]);
      this.ids.add(id);
    });
  }

  private async deleteWhere(label: string, match: (ruleId: string) => boolean): Promise<number> {
    const listing = await this.run(label, ['-S', 'OUTPUT']);
    let deleted = 0;
    for (const line of listing.split('\n')) {
      const args = splitRuleSpec(line);
      if (args[0] !== '-A' || args[1] !== 'OUTPUT') continue;
      const ruleId = faultIdOf(args);
      if (ruleId === null || !match(ruleId)) continue;
      await this.run(ruleId, ['-D', ...args.slice(1)]);
      deleted++;
    }
    return deleted;
  }

  /** Runs iptables; rejects with an Error naming the fault and iptables' stderr. */
  private run(id: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.iptables, args, { timeout: IPTABLES_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim() || err.message;
          reject(new Error(`fault ${id}: iptables ${args.join(' ')} failed: ${detail}`));
          return;
        }
        resolve(stdout);
      });
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
