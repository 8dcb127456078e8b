import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../src/detect/events.js';
import { freePort, sample, startDaemon, tempDir, type Daemon } from '../e2e/harness.js';

// The built daemon with its data directory on a small tmpfs in a private mount namespace (so
// the host's mounts are never touched): the disk fills up, then a read-only one takes its place, while KZ
// shutdowns open and close. Probing and serving must go on, a metric and a log line must say
// what is wrong, and every event produced meanwhile must reach the file once the disk is back.
// Then, without a tmpfs: the data directory deleted and the events file scribbled on under the
// running daemon. Runs as root (unshare, mount), under scripts/netns-run.sh like every netns test.

const run = promisify(execFile);

let kz: Server | null = null;
let kzPort = 0;
let controls: Server;

function tcpServer(): Server {
  return createServer((s) => s.destroy());
}

async function listenOn(server: Server, port = 0): Promise<number> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function kzDown(): Promise<void> {
  await new Promise<void>((r) => kz!.close(() => r()));
}

async function kzUp(): Promise<void> {
  kz = tcpServer();
  await listenOn(kz, kzPort);
}

async function waitFor<T>(d: Daemon, probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; log tail:\n${d.logs.slice(-8).map((l) => JSON.stringify(l)).join('\n')}`);
}

async function apiEvents(d: Daemon): Promise<DisruptionEvent[]> {
  const res = await fetch(`http://127.0.0.1:${d.port}/api/v1/events`);
  return ((await res.json()) as { events: DisruptionEvent[] }).events;
}

/** Waits for a KZ shutdown to open after KZ stops answering, then for it to close after KZ is back; returns its id. */
async function shutdownCycle(d: Daemon): Promise<string> {
  // A shutdown needs targets that were up: wait until the detector holds KZ reachable.
  await waitFor(
    d,
    async () => {
      const res = await fetch(`http://127.0.0.1:${d.port}/api/v1/status`);
      const body = (await res.json()) as { countries: { country: string; state: string; up: number }[] };
      const kzState = body.countries.find((c) => c.country === 'KZ');
      return kzState?.state === 'ok' && kzState.up === 3 ? true : undefined;
    },
    'KZ to be up',
  );
  const before = new Set((await apiEvents(d)).map((e) => e.id));
  await kzDown();
  const opened = await waitFor(d, async () => (await apiEvents(d)).find((e) => !before.has(e.id) && e.ended_at === null), 'a KZ shutdown to open');
  await kzUp();
  await waitFor(d, async () => ((await apiEvents(d)).find((e) => e.id === opened.id)?.ended_at ? true : undefined), 'the shutdown to close');
  return opened.id;
}

/** The latest state of each id in an events.jsonl text (what a restart would read). */
function latest(text: string): Map<string, DisruptionEvent> {
  const out = new Map<string, DisruptionEvent>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as DisruptionEvent;
      if (typeof e.id === 'string') out.set(e.id, e);
    } catch {
      // Garbage a test wrote: a restart skips it too.
    }
  }
  return out;
}

/** Every event the API shows is in `stored` with the same state. */
function expectAllStored(api: DisruptionEvent[], stored: Map<string, DisruptionEvent>): void {
  expect(api.length).toBeGreaterThan(0);
  for (const e of api) expect(stored.get(e.id)).toEqual(e);
}

function configText(apiPort: number, controlPort: number): string {
  return `
vantage: { id: e2e-storage }
server: { listen: "127.0.0.1:${apiPort}" }
storage: { dir: ./data }
schedule: { interval: 1s, timeout: 400ms, confirm_delay: 200ms }
detection: { evaluate_every: 500ms }
targets:
  - { id: kz-1, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${kzPort} }
  - { id: kz-2, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${kzPort} }
  - { id: kz-3, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: ${kzPort} }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${controlPort} }
  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${controlPort} }
`;
}

let controlPort = 0;

beforeAll(async () => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  kz = tcpServer();
  kzPort = await listenOn(kz);
  controls = tcpServer();
  controlPort = await listenOn(controls);
});

afterAll(async () => {
  await Promise.all([kz, controls].map((s) => new Promise<void>((r) => (s?.listening ? s.close(() => r()) : r()))));
});

describe('the data directory on a tmpfs that fills up and goes read-only', () => {
  let daemon: Daemon;
  let data: string;
  /** Runs a command in the daemon's mount namespace. */
  const inNs = (cmd: string[]) => run('nsenter', ['-t', String(daemon.proc.pid), '-m', '--', ...cmd]);
  const storedText = async () => (await inNs(['cat', join(data, 'events.jsonl')])).stdout;

  beforeAll(async () => {
    const dir = tempDir();
    data = join(dir, 'data');
    mkdirSync(data);
    const apiPort = await freePort();
    writeFileSync(join(dir, 'lookout.yaml'), configText(apiPort, controlPort));
    // unshare execs sh, which mounts the tmpfs in the new namespace and execs the daemon: one pid.
    daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' }, [
      'unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=64k lookout-test "$0" && exec "$@"', data,
    ]);
  });

  afterAll(() => {
    daemon?.proc.kill('SIGKILL');
  });

  it('holds the events of a full disk, says so, and writes every one once there is room again', async () => {
    // Fill the disk while events.jsonl is still empty, so its first line needs a block.
    await inNs(['dd', 'if=/dev/zero', `of=${join(data, 'fill')}`, 'bs=4k']).catch(() => undefined);
    const probesBefore = sample(await daemon.metrics(), 'lookout_probes_total', { kind: 'tcp' }) ?? 0;
    const first = await shutdownCycle(daemon);
    const second = await shutdownCycle(daemon);

    const text = await daemon.metrics();
    expect(sample(text, 'lookout_storage_healthy')).toBe(0);
    expect(sample(text, 'lookout_events_pending')).toBe(2);
    expect(sample(text, 'lookout_storage_errors_total', { op: 'write' })).toBeGreaterThan(0);
    expect(sample(text, 'lookout_probes_total', { kind: 'tcp' })).toBeGreaterThan(probesBefore);
    const failure = await daemon.waitForLog((l) => l.msg === 'event store cannot write; holding events in memory and retrying');
    expect(failure).toMatchObject({ level: 'error', code: 'ENOSPC', op: 'write' });
    expect(await storedText()).toBe('');

    await inNs(['rm', join(data, 'fill')]);
    await waitFor(daemon, async () => (sample(await daemon.metrics(), 'lookout_events_pending') === 0 ? true : undefined), 'the held events to be written');
    expect(sample(await daemon.metrics(), 'lookout_storage_healthy')).toBe(1);
    await daemon.waitForLog((l) => l.msg === 'event store writable again; held events written');
    const stored = latest(await storedText());
    expect([...stored.keys()].sort()).toEqual([first, second].sort());
    expectAllStored(await apiEvents(daemon), stored);
  }, 120_000);

  it('holds the events of a read-only disk and writes them once it is writable again', async () => {
    // A read-only filesystem mounted over the data directory: the kernel refuses to remount the
    // tmpfs read-only while the daemon has a file open for writing (EBUSY), as a failing disk
    // would be (errors=remount-ro), so the read-only state comes from a mount on top instead.
    await inNs(['mount', '-t', 'tmpfs', '-o', 'ro,size=16k', 'lookout-ro', data]);
    const third = await shutdownCycle(daemon);
    expect(sample(await daemon.metrics(), 'lookout_storage_healthy')).toBe(0);
    expect(sample(await daemon.metrics(), 'lookout_events_pending')).toBe(1);
    expect(daemon.logs.filter((l) => l.msg === 'event store cannot write; holding events in memory and retrying').map((l) => l.code)).toContain('EROFS');
    // The read-only mount hides the file: nothing of it can be read, nothing written.
    expect(await storedText().catch(() => 'unreadable')).toBe('unreadable');

    await inNs(['umount', data]);
    await waitFor(daemon, async () => (sample(await daemon.metrics(), 'lookout_events_pending') === 0 ? true : undefined), 'the held event to be written');
    const stored = latest(await storedText());
    expect(stored.has(third)).toBe(true);
    expectAllStored(await apiEvents(daemon), stored);
    expect(sample(await daemon.metrics(), 'lookout_storage_healthy')).toBe(1);
  }, 120_000);
});

describe('the data directory deleted and the events file scribbled on under the running daemon', () => {
  let daemon: Daemon;
  let dir: string;
  let apiPort: number;
  const file = () => join(dir, 'data', 'events.jsonl');

  beforeAll(async () => {
    dir = tempDir();
    apiPort = await freePort();
    writeFileSync(join(dir, 'lookout.yaml'), configText(apiPort, controlPort));
    daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
  });

  afterAll(() => {
    daemon?.proc.kill('SIGKILL');
  });

  it('recreates a deleted data directory with every event it knew', async () => {
    const first = await shutdownCycle(daemon);
    rmSync(join(dir, 'data'), { recursive: true });
    const second = await shutdownCycle(daemon);
    await waitFor(daemon, async () => (sample(await daemon.metrics(), 'lookout_events_pending') === 0 ? true : undefined), 'the events to be written');
    const stored = latest(readFileSync(file(), 'utf8'));
    expect([...stored.keys()].sort()).toEqual([first, second].sort());
    expectAllStored(await apiEvents(daemon), stored);
    await daemon.waitForLog((l) => l.msg === 'event log was deleted or replaced; writing the events held in memory');
  }, 120_000);

  it('keeps its own lines whole after garbage was appended, and a restart reads every event back', async () => {
    appendFileSync(file(), '\u0000\u0000{"half a line": ');
    const third = await shutdownCycle(daemon);
    await waitFor(daemon, async () => (sample(await daemon.metrics(), 'lookout_events_pending') === 0 ? true : undefined), 'the event to be written');
    const api = await apiEvents(daemon);
    expect(api.map((e) => e.id)).toContain(third);
    daemon.proc.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);

    daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' });
    const skipped = await daemon.waitForLog((l) => l.msg === 'event log line skipped');
    expect(skipped).toMatchObject({ level: 'warn' });
    expect(await apiEvents(daemon)).toEqual(api);
  }, 120_000);
});

describe('a read-only root filesystem, only storage.dir writable', () => {
  let daemon: Daemon;
  let dir: string;
  let data: string;
  const inNs = (cmd: string[]) => run('nsenter', ['-t', String(daemon.proc.pid), '-m', '--', ...cmd]);

  beforeAll(async () => {
    dir = tempDir();
    data = join(dir, 'data');
    mkdirSync(data);
    const apiPort = await freePort();
    writeFileSync(join(dir, 'lookout.yaml'), configText(apiPort, controlPort));
    // As `docker run --read-only -v data:/var/lib/lookout` would: / read-only (in this mount
    // namespace only), a writable filesystem on the data directory.
    daemon = await startDaemon(join(dir, 'lookout.yaml'), apiPort, { LOG_LEVEL: 'info' }, [
      'unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -o remount,bind,ro / && mount -t tmpfs -o size=1m lookout-data "$0" && exec "$@"', data,
    ]);
  });

  afterAll(() => {
    daemon?.proc.kill('SIGKILL');
  });

  it('runs, and stores its events, with nothing else writable', async () => {
    await expect(inNs(['touch', join(dir, 'written-outside-storage')])).rejects.toThrow(/Read-only file system/);
    const id = await shutdownCycle(daemon);
    await waitFor(daemon, async () => (sample(await daemon.metrics(), 'lookout_events_pending') === 0 ? true : undefined), 'the event to be written');
    const stored = latest((await inNs(['cat', join(data, 'events.jsonl')])).stdout);
    expect(stored.has(id)).toBe(true);
    expect(sample(await daemon.metrics(), 'lookout_storage_healthy')).toBe(1);
    expect(daemon.logs.filter((l) => l.level === 'error')).toEqual([]);
  }, 120_000);
});
