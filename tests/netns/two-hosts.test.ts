import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHosts, LINK, LOCAL_RANGE, type Host, type Hosts } from '../fixtures/hosts.js';

// The two-host fixture of the remote-write end-to-end test: the vantage and the center reach
// each other over 127.200.0.0/30 on their veth pair, reach nothing else (not each other's
// loopback, not the test's namespace, no other 127.x address, no route out), and a cut link
// makes connections time out until it is restored.

let hosts: Hosts;
const servers: ChildProcess[] = [];

/** A TCP server on address:port inside host that accepts and closes; resolves once listening. */
async function listenIn(host: Host, address: string, port: number): Promise<void> {
  const script = `require('node:net').createServer((s) => s.end()).listen(${port}, '${address}', () => process.stdout.write('ready\\n'));`;
  const [program, ...args] = host.argv([process.execPath, '-e', script]);
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  await new Promise<void>((res, rej) => {
    child.stdout?.on('data', (c: Buffer) => (c.toString().includes('ready') ? res() : undefined));
    child.once('exit', (code) => rej(new Error(`server in ${host.name} exited (${code})`)));
  });
}

beforeAll(async () => {
  hosts = await createHosts();
  await listenIn(hosts.center, LINK.center, 9000);
  await listenIn(hosts.center, '127.0.0.1', 9001);
  await listenIn(hosts.vantage, LINK.vantage, 9000);
});

afterAll(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await hosts?.close();
});

describe('two hosts joined by a veth pair on 127.200.0.0/30', () => {
  it('each host has its loopback, its end of the link, and no other route', async () => {
    for (const h of [hosts.vantage, hosts.center]) {
      const links = JSON.parse(await h.exec(['ip', '-j', 'link', 'show'])) as { ifname: string }[];
      expect(links.map((l) => l.ifname).sort(), h.name).toEqual([h.dev, 'lo'].sort());
      const main = JSON.parse(await h.exec(['ip', '-j', 'route', 'show', 'table', 'main'])) as { dst: string; dev: string }[];
      expect(main.map((r) => `${r.dst} ${r.dev}`), h.name).toEqual([`127.200.0.0/30 ${h.dev}`]);
      const local = JSON.parse(await h.exec(['ip', '-j', 'route', 'show', 'table', 'local', 'type', 'local'])) as { dst: string; dev: string }[];
      expect(local.map((r) => `${r.dst} ${r.dev}`).sort(), h.name).toEqual([`${LOCAL_RANGE} lo`, '127.0.0.1 lo', `${h.address} ${h.dev}`].sort());
      const v6 = JSON.parse(await h.exec(['ip', '-j', '-6', 'route', 'show', 'table', 'all'])) as { dst: string; type?: string }[];
      expect(v6.every((r) => r.dst === '::1' || r.dst === 'multicast' || r.type === 'multicast'), `${h.name}: ${JSON.stringify(v6)}`).toBe(true);
      expect(await h.exec(['sysctl', '-n', 'net.ipv4.conf.all.route_localnet']), h.name).toBe('1\n');
      // Anything off the link and off the local range has no route: nothing can leave.
      await expect(h.exec(['ip', 'route', 'get', '127.201.0.1'])).rejects.toThrow(/unreachable/i);
    }
  });

  it('the vantage reaches the center over the link, and the center the vantage', async () => {
    expect(await hosts.vantage.connect(LINK.center, 9000)).toBe('connected');
    expect(await hosts.center.connect(LINK.vantage, 9000)).toBe('connected');
  });

  it('nothing else is reachable: not the other host’s loopback, not another 127.x, not the test’s namespace', async () => {
    // The center listens on its own 127.0.0.1:9001; from the vantage that address is the vantage's own loopback.
    expect(await hosts.vantage.connect('127.0.0.1', 9001)).toBe('refused');
    expect(await hosts.vantage.connect(LINK.center, 9001)).toBe('refused');
    expect(await hosts.vantage.connect('127.201.0.1', 9000)).toBe('ENETUNREACH');
    expect(await hosts.center.connect('127.201.0.1', 9000)).toBe('ENETUNREACH');
    // The test's own namespace has no link to either host.
    const fromTest = await new Promise<string>((res) => {
      const s = connect({ host: LINK.center, port: 9000 });
      s.setTimeout(1000, () => (s.destroy(), res('timeout')));
      s.on('connect', () => (s.destroy(), res('connected')));
      s.on('error', (e: NodeJS.ErrnoException) => res(String(e.code)));
    });
    expect(fromTest).not.toBe('connected');
  });

  it('a cut link times connections out until it is restored', async () => {
    await hosts.cutLink();
    try {
      expect(await hosts.vantage.connect(LINK.center, 9000, 1500)).toBe('timeout');
      expect(await hosts.center.connect(LINK.vantage, 9000, 1500)).toBe('timeout');
      // The vantage's own loopback is untouched by the cut.
      expect(await hosts.vantage.connect('127.0.0.1', 9001)).toBe('refused');
    } finally {
      await hosts.restoreLink();
    }
    expect(await hosts.vantage.connect(LINK.center, 9000)).toBe('connected');
  });
});
