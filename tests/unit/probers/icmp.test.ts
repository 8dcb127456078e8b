import { describe, expect, it } from 'vitest';
import { IcmpTarget, type IcmpResolved } from '../../../src/config/schema.js';
import { FpingPinger, type EchoOutcome } from '../../../src/probers/icmp-fping.js';
import { makeIcmpProber, type Pinger } from '../../../src/probers/icmp.js';
import type { HostResolver, ProbeContext } from '../../../src/probers/types.js';

// The prober's verdicts over given echo outcomes (the echoes themselves are sent for real in
// tests/netns/icmp-faults.test.ts), and fping missing altogether. No packet leaves here.

const common = { country: 'ZZ', category: 'test', file: 'test.yaml' };
const target = (fields: { host?: string; hosts?: string[] }): IcmpResolved =>
  ({ ...IcmpTarget.parse({ id: 'u-icmp', kind: 'icmp', ...fields }), ...common });

const resolver: HostResolver = {
  resolve: (host) => (host === 'two.test' ? Promise.resolve(['127.0.0.2']) : Promise.reject(Object.assign(new Error(`no ${host}`), { code: 'ENOTFOUND' }))),
};

function ctx(timeoutMs = 1000, signal = new AbortController().signal): ProbeContext {
  return { timeoutMs, signal, resolver };
}

/** A pinger answering from a table; records what it was asked. */
function tablePinger(table: Record<string, EchoOutcome>): Pinger & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    echo: (address) => {
      asked.push(address);
      return Promise.resolve(table[address] ?? { kind: 'timeout' });
    },
  };
}

describe('the icmp prober over given echo outcomes', () => {
  it('resolves names (dns phase) and pings each distinct address of a block once', async () => {
    const pinger = tablePinger({ '127.0.0.2': { kind: 'reply', rttMs: 3 } });
    const r = await makeIcmpProber(pinger)(target({ hosts: ['127.0.0.1', 'two.test', '127.0.0.1'] }), ctx());
    expect(pinger.asked.sort()).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(r).toMatchObject({ ok: true, reason: null, ip: '127.0.0.2', detail: '1/2 answered' });
    expect(r.phases.total).toBe(0.003);
    expect(r.phases.dns).toBeGreaterThanOrEqual(0);
  });

  it('takes the fastest reply as total', async () => {
    const pinger = tablePinger({ '127.0.0.1': { kind: 'reply', rttMs: 9 }, '127.0.0.3': { kind: 'reply', rttMs: 2 } });
    const r = await makeIcmpProber(pinger)(target({ hosts: ['127.0.0.1', '127.0.0.3'] }), ctx());
    expect(r).toMatchObject({ ok: true, ip: '127.0.0.3', detail: '2/2 answered' });
    expect(r.phases.total).toBe(0.002);
  });

  it('a name that does not resolve fails with the dns reason', async () => {
    const r = await makeIcmpProber(tablePinger({}))(target({ host: 'nx.test' }), ctx());
    expect(r).toMatchObject({ ok: false, reason: 'dns_nxdomain', ip: null });
  });

  it('fping failing as a whole is unknown, naming the cause', async () => {
    const pinger = tablePinger({ '127.0.0.1': { kind: 'error', detail: 'fping exited 4' } });
    const r = await makeIcmpProber(pinger)(target({ host: '127.0.0.1' }), ctx());
    expect(r).toMatchObject({ ok: false, reason: 'unknown', detail: 'icmp: fping exited 4' });
  });

  it('a daemon stopping ends a probe waiting for its echo at once', async () => {
    const stop = new AbortController();
    const never: Pinger = { echo: () => new Promise(() => undefined) };
    const pending = makeIcmpProber(never)(target({ host: '127.0.0.1' }), ctx(60_000, stop.signal));
    stop.abort();
    const r = await pending;
    expect(r).toMatchObject({ ok: false, reason: 'icmp_timeout', detail: 'probe aborted' });
  });
});

describe('FpingPinger without fping', () => {
  it('resolves every waiter with an error naming the command, never rejects', async () => {
    const pinger = new FpingPinger({ command: '/nonexistent/fping', batchWindowMs: 10 });
    const outcomes = await Promise.all([pinger.echo('127.0.0.1', 500), pinger.echo('::1', 500), pinger.echo('127.0.0.1', 500)]);
    for (const o of outcomes) {
      expect(o.kind).toBe('error');
      expect(o.kind === 'error' ? o.detail : '').toMatch(/cannot run \/nonexistent\/fping: .*ENOENT/);
    }
    pinger.close();
  });
});
