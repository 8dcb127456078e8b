/**
 * The container image, built from the repository's unchanged Dockerfile and run for real with
 * root podman (no Docker engine and no image registry here):
 *   - a local stand-in for node:24-slim is made once per machine (scripts/container-base.sh);
 *   - the Dockerfile is built as it is, in docker format (the OCI format drops HEALTHCHECK);
 *   - the running container is checked the way an operator would run it: uid 1000, a published
 *     port on 127.0.0.1, the HEALTHCHECK, the data volume across a restart, a read-only root
 *     filesystem, `podman stop` ending Node as PID 1 cleanly, and `lookout simulate` with and
 *     without the capabilities it needs.
 * The daemon in the container only probes its own loopback (targets at 127.0.0.1 inside the
 * container); `simulate` runs with --network=none. The build itself reaches the npm registry
 * and the Debian mirror through the ordinary clients, as any image build does.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetworkFlags, podman, podmanOk, ulimitFlags } from '../fixtures/podman.js';
import type { DisruptionEvent } from '../../src/detect/events.js';
import { freePort, runCli, tempDir } from '../e2e/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const BASE = 'docker.io/library/node:24-slim';
const TAG = `localhost/lookout:test-${process.pid}`;
const NAME = `lookout-test-${process.pid}`;
const VOLUME = `lookout-test-data-${process.pid}`;
const MB = 1_000_000;
const ULIMITS = ulimitFlags();

/** Loopback-only world inside the container: KZ answers while a listener runs on :8080; the controls are the daemon itself. */
const CONFIG = `
vantage: { id: container-test }
server: { listen: "0.0.0.0:9464" }
storage: { dir: /var/lib/lookout }
schedule: { interval: 1s, timeout: 400ms, confirm_delay: 200ms }
detection: { evaluate_every: 500ms }
catalogs: []
targets:
  - { id: kz-1, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: 8080 }
  - { id: kz-2, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: 8080 }
  - { id: kz-3, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: 8080 }
  - { id: kz-4, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: 8080 }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: 9464 }
  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: 9464 }
`;

/** A short inside-out scenario with a real iptables fault: TCP resets for social networks. */
const SCENARIO = `
name: container-reset
description: TCP resets for social networks, seen from inside KZ (the container test's short run).
vantage: { country: KZ }
schedule: { interval: 2s, timeout: 1s, confirm_delay: 500ms }
world:
  controls: 3
  countries:
    - code: KZ
      asns: [9198]
      targets:
        - { name: news, kind: tcp, category: news, count: 2 }
    - code: US
      asns: [32934, 15169]
      targets:
        - { name: social, kind: tcp, category: social, asn: 32934, count: 3 }
        - { name: search, kind: tcp, category: search, asn: 15169, count: 3 }
duration: 30s
faults:
  - { id: social-reset, at: 10s, for: 15s, fault: reset, scope: { category: social } }
expect:
  - { kind: service_blocking, country: KZ, category: social, mechanism: tcp_reset, cause: social-reset, within: 10s }
`;

const dir = tempDir({ 'lookout.yaml': CONFIG, 'scenario.yaml': SCENARIO });
let port = 0;
let imageBytes = 0;
let baseBytes = 0;

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) {
      const logs = await podman(['logs', '--tail', '15', NAME]);
      const ps = await podman(['exec', NAME, 'sh', '-c', 'for p in /proc/[0-9]*; do echo "${p#/proc/}: $(tr "\\0" " " < "$p/cmdline")"; done']);
      const metrics = await get('/metrics').then((r) => r.text()).catch((err: unknown) => String(err));
      const up = metrics.split('\n').filter((l) => l.startsWith('lookout_target_up')).join('\n');
      throw new Error(`timed out waiting for ${what}; container log tail:\n${logs.stdout}${logs.stderr}\nprocesses:\n${ps.stdout}${ps.stderr}\n${up}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function get(path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3_000) });
}

async function events(): Promise<DisruptionEvent[]> {
  const res = await get('/api/v1/events');
  return ((await res.json()) as { events: DisruptionEvent[] }).events;
}

async function startContainer(): Promise<void> {
  await podmanOk([
    'run', '-d', '--name', NAME, ...ULIMITS,
    '--network=slirp4netns', '--publish', `127.0.0.1:${port}:9464`,
    // Read-only root filesystem and no tmpfs either: the data volume is the only writable place.
    '--read-only', '--read-only-tmpfs=false',
    '--volume', `${VOLUME}:/var/lib/lookout`,
    '--volume', `${join(dir, 'lookout.yaml')}:/etc/lookout/lookout.yaml:ro`,
    TAG,
  ]);
  await waitFor(async () => ((await get('/metrics')).ok ? true : undefined), '/metrics through the published port');
}

function simulate(extra: readonly string[]): ReturnType<typeof podman> {
  return podman(
    ['run', '--rm', ...ULIMITS, '--network=none', '--read-only', ...extra,
      '--volume', `${join(dir, 'scenario.yaml')}:/tmp/scenario.yaml:ro`, TAG, 'simulate', '/tmp/scenario.yaml'],
    120_000,
  );
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the container test builds and runs images with root podman: run the suite as root');
  let t = Date.now();
  execFileSync('bash', [join(ROOT, 'scripts/container-base.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
  console.log(`container test: base image ${BASE} ready in ${seconds(t)}`);
  t = Date.now();
  await podmanOk(['build', '--pull=never', '--layers=false', '--format', 'docker', ...ULIMITS, ...buildNetworkFlags(dir), '--tag', TAG, ROOT], 900_000);
  console.log(`container test: image built from the Dockerfile in ${seconds(t)}`);
  imageBytes = Number((await podmanOk(['image', 'inspect', '--format', '{{.Size}}', TAG])).trim());
  baseBytes = Number((await podmanOk(['image', 'inspect', '--format', '{{.Size}}', BASE])).trim());
  console.log(`container test: image ${TAG} is ${(imageBytes / MB).toFixed(0)} MB (base ${(baseBytes / MB).toFixed(0)} MB, Lookout's layers ${((imageBytes - baseBytes) / MB).toFixed(0)} MB)`);
  port = await freePort();
  await podmanOk(['volume', 'create', VOLUME]);
  await startContainer();
}, 1_500_000);

afterAll(async () => {
  await podman(['rm', '--force', '--time', '0', NAME]);
  await podman(['volume', 'rm', '--force', VOLUME]);
  await podman(['rmi', '--force', TAG]);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('Dockerfile', () => {
  it('is an ordinary Dockerfile: Node 24 slim, non-root, a volume, a port, a curl-free healthcheck', () => {
    expect(dockerfile).toMatch(/^FROM node:24-slim AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:24-slim$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    const instructions = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
    expect(instructions).not.toMatch(/curl|wget/);
    // Nothing of this machine (mounts, proxies, CA files) belongs in it: the test passes those.
    expect(instructions).not.toMatch(/--mount|cafile|proxy|ca-certificates/i);
  });

  it('keeps the build context small', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', 'data', '.git', 'tests']) expect(ignore).toContain(entry);
  });

  it('builds the config layout the image ships, and check-config accepts it outside the image too', async () => {
    const sed = /sed -i '([^']+)' \/etc\/lookout\/lookout.yaml/.exec(dockerfile)?.[1];
    expect(sed).toBeDefined();
    const root = tempDir();
    mkdirSync(join(root, 'etc/lookout'), { recursive: true });
    cpSync(join(ROOT, 'config/lookout.yaml'), join(root, 'etc/lookout/lookout.yaml'));
    cpSync(join(ROOT, 'probes'), join(root, 'etc/probes'), { recursive: true });
    execFileSync('sed', ['-i', sed as string, join(root, 'etc/lookout/lookout.yaml')]);
    expect(readFileSync(join(root, 'etc/lookout/lookout.yaml'), 'utf8')).toMatch(/^ {2}dir: \/var\/lib\/lookout$/m);
    // check-config creates and writes in the storage folder as the daemon would: point it into
    // this temporary root, never at the host's /var/lib/lookout.
    execFileSync('sed', ['-i', `s#^  dir: /var/lib/lookout$#  dir: ${join(root, 'var/lib/lookout')}#`, join(root, 'etc/lookout/lookout.yaml')]);
    const { code, stderr } = await runCli(['check-config'], { LOOKOUT_CONFIG: join(root, 'etc/lookout/lookout.yaml') });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

// Each podman call takes a second or two, more on a busy machine.
describe('the image, built and run', { timeout: 90_000 }, () => {
  it('keeps HEALTHCHECK, user, volume, port and an exec-form entrypoint (docker format)', async () => {
    const config = JSON.parse(await podmanOk(['image', 'inspect', '--format', '{{json .Config}}', TAG])) as {
      User: string;
      Entrypoint: string[];
      Cmd: string[];
      ExposedPorts: Record<string, unknown>;
      Volumes: Record<string, unknown>;
    };
    expect(config.User).toBe('node');
    expect(config.Entrypoint).toEqual(['node', '/app/dist/main.js']);
    expect(config.Cmd).toEqual(['run']);
    expect(Object.keys(config.ExposedPorts)).toEqual(['9464/tcp']);
    expect(Object.keys(config.Volumes)).toEqual(['/var/lib/lookout']);
    const health = JSON.parse(await podmanOk(['image', 'inspect', '--format', '{{json .HealthCheck}}', TAG])) as { Test: string[] } | null;
    expect(health?.Test).toEqual(['CMD', 'node', '/app/dist/main.js', 'healthcheck']);
  });

  it('is small: production dependencies only', async () => {
    const listing = await podmanOk(['run', '--rm', ...ULIMITS, '--network=none', '--entrypoint', 'sh', TAG, '-c', 'ls /app/node_modules /app/node_modules/@types']);
    const modules = listing.split(/\s+/);
    for (const dep of ['pino', 'prom-client', 'undici', 'zod', 'yaml']) expect(modules).toContain(dep);
    for (const dev of ['typescript', 'vitest', 'eslint', 'fast-check', 'node']) expect(modules).not.toContain(dev);
    // Node and Debian are the base's; Lookout adds its code, its production modules and iproute2 + iptables.
    // The largest modules are data and drawing: the IPv4 range files of block probing (about
    // 30 MB), the country database (8 MB), Vega and Vega-Lite (about 20 MB), resvg (4 MB).
    expect(imageBytes - baseBytes).toBeLessThan(150 * MB);
  });

  it('echoes as the node user through fping given NET_RAW, and names the refusal without it (icmp targets)', async () => {
    // The container's own loopback (--network=none). fping runs with its file capability
    // cap_net_raw, which the node user gets while NET_RAW is in the container's set: Docker's
    // default set has it, podman's does not, hence --cap-add here (docs/icmp.md).
    const ok = await podman(['run', '--rm', ...ULIMITS, '--network=none', '--cap-add', 'NET_RAW', '--entrypoint', 'fping', TAG, '-c1', '-t500', '127.0.0.1', '::1']);
    const said = `code ${String(ok.code)}\n${ok.stdout}\n${ok.stderr}`;
    expect(ok.stdout, said).toMatch(/^127\.0\.0\.1\s*: \[0\], \d+ bytes, [\d.]+ ms/m);
    expect(ok.stdout, said).toMatch(/^::1\s*: \[0\], \d+ bytes, [\d.]+ ms/m);
    expect(ok.code, said).toBe(0);
    // Without NET_RAW the kernel refuses to start it: what docs/security.md says happens.
    const denied = await podman(['run', '--rm', ...ULIMITS, '--network=none', '--cap-drop', 'NET_RAW', '--entrypoint', 'fping', TAG, '-c1', '-t500', '127.0.0.1']);
    expect(denied.code, denied.stderr).not.toBe(0);
    expect(denied.stdout).not.toMatch(/bytes/);
  });

  it('runs as uid 1000, and the shipped config passes check-config inside', async () => {
    const status = await podmanOk(['exec', NAME, 'cat', '/proc/1/status']);
    expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    const check = await podman(['run', '--rm', ...ULIMITS, '--network=none', TAG, 'check-config']);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });

  it('answers /metrics through the published port and /healthz through its HEALTHCHECK', async () => {
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^lookout_build_info\{version="[^"]+",node="v24\.[^"]+",vantage="container-test"\} 1$/m);
    const health = await podman(['healthcheck', 'run', NAME]);
    expect(health.stdout + health.stderr).not.toMatch(/unhealthy/);
    expect(health.code).toBe(0);
    expect((await podmanOk(['inspect', '--format', '{{.State.Health.Status}}', NAME])).trim()).toBe('healthy');
  });

  it('runs on a read-only root filesystem with only the data volume writable', async () => {
    expect((await podmanOk(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', NAME])).trim()).toBe('true');
    for (const path of ['/app/probe', '/etc/lookout/probe', '/tmp/probe', '/home/node/probe']) {
      const r = await podman(['exec', NAME, 'touch', path]);
      expect(r.stderr, path).toMatch(/Read-only file system/);
      expect(r.code, path).not.toBe(0);
    }
    await podmanOk(['exec', NAME, 'sh', '-c', 'touch /var/lib/lookout/probe && rm /var/lib/lookout/probe']);
  });

  it('keeps the events it writes to the data volume across a restart', { timeout: 150_000 }, async () => {
    // KZ answers while a listener runs inside the container; stopping it is a shutdown of KZ.
    await podmanOk(['exec', '-d', NAME, 'node', '-e', "require('node:net').createServer((s) => s.destroy()).listen(8080, '127.0.0.1')"]);
    // Every KZ target must have been up: one never seen up is not eligible, and with fewer than
    // three eligible targets no shutdown can open.
    const allUp = (metrics: string): boolean => [1, 2, 3, 4].every((n) => new RegExp(`^lookout_target_up\\{target="kz-${n}"[^}]*\\} 1$`, 'm').test(metrics));
    await waitFor(async () => (allUp(await (await get('/metrics')).text()) ? true : undefined), 'every KZ target up');
    // The [8] keeps this shell's own command line from matching.
    await podmanOk(['exec', NAME, 'sh', '-c', 'for p in /proc/[0-9]*; do grep -q "listen([8]080" "$p/cmdline" 2>/dev/null && kill "${p#/proc/}"; done; true']);
    const opened = await waitFor(async () => (await events()).find((e) => e.kind === 'shutdown' && e.country === 'KZ'), 'the KZ shutdown event');
    const stored = (await podmanOk(['exec', NAME, 'cat', '/var/lib/lookout/events.jsonl'])).trim().split('\n');
    expect(stored.map((l) => (JSON.parse(l) as DisruptionEvent).id)).toContain(opened.id);

    await podmanOk(['stop', '--time', '5', NAME]);
    await podmanOk(['start', NAME]);
    await waitFor(async () => ((await get('/metrics')).ok ? true : undefined), '/metrics after the restart');
    const after = await events();
    expect(after.map((e) => e.id)).toContain(opened.id);
    expect(after.find((e) => e.id === opened.id)?.started_at).toBe(opened.started_at);
  });

  it('ends with exit 0 within 5 s on podman stop, Node being PID 1 (no --init)', async () => {
    expect((await podmanOk(['exec', NAME, 'cat', '/proc/1/cmdline'])).split('\0').filter(Boolean)).toEqual(['node', '/app/dist/main.js', 'run']);
    expect((await podmanOk(['inspect', '--format', '{{.HostConfig.Init}}', NAME])).trim()).toBe('false');
    const t = Date.now();
    await podmanOk(['stop', '--time', '5', NAME]);
    const took = Date.now() - t;
    const state = (await podmanOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', NAME])).trim();
    expect(state).toBe('exited 0');
    // Killed at the timeout it would be exit 137 after 5 s; SIGTERM handled by Node ends it at once.
    expect(took).toBeLessThan(5_000);
    const logs = await podmanOk(['logs', NAME]);
    expect(logs).toMatch(/"msg":"lookout stopped"/);
  });
});

describe('lookout simulate inside the image', () => {
  it('runs a scenario as root with --cap-add NET_ADMIN --cap-add SYS_ADMIN', { timeout: 150_000 }, async () => {
    const r = await simulate(['--user', 'root', '--cap-add', 'NET_ADMIN', '--cap-add', 'SYS_ADMIN']);
    expect(r.stdout).toMatch(/event opened: service_blocking KZ social tcp_reset/);
    expect(r.stdout).toMatch(/^PASS: 1 ok, 0 missed, 0 wrong, 0 extra$/m);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('without the capabilities exits 2 naming the missing ones', { timeout: 60_000 }, async () => {
    const none = await simulate(['--user', 'root']);
    expect(none.stderr).toMatch(/cannot create a network namespace/);
    expect(none.stderr).toContain('Missing here: CAP_SYS_ADMIN, CAP_NET_ADMIN (in a container: --cap-add SYS_ADMIN --cap-add NET_ADMIN).');
    expect(none.code).toBe(2);

    const noNetAdmin = await simulate(['--user', 'root', '--cap-add', 'SYS_ADMIN']);
    expect(noNetAdmin.stderr).toMatch(/cannot bring up loopback in the namespace/);
    expect(noNetAdmin.stderr).toContain('Missing here: CAP_NET_ADMIN (in a container: --cap-add NET_ADMIN).');
    expect(noNetAdmin.code).toBe(2);
  });
});
