import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runTool } from '../fixtures/promtool.js';

// docker-compose.yml, checked without a Docker engine: docker-compose validates it, and every
// file a service is pointed at is followed through the bind mounts to the repository.

const ROOT = resolve(import.meta.dirname, '../..');

interface Service {
  build?: string | { context: string };
  image?: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const { services } = compose;

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
}

/** Bind mounts of a service: repository path and container path. */
function binds(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).flatMap((v) => {
    const [source, target] = v.split(':');
    return source?.startsWith('.') && target !== undefined ? [{ source: join(ROOT, source), target }] : [];
  });
}

/** The repository path behind a container path of the service, through its bind mounts. */
function hostPath(s: Service, containerPath: string): string | null {
  const mount = binds(s)
    .filter((b) => containerPath === b.target || containerPath.startsWith(`${b.target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
  return mount ? join(mount.source, posix.relative(mount.target, containerPath)) : null;
}

function flag(s: Service, name: string): string {
  const value = s.command?.find((c) => c.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (value === undefined) throw new Error(`no --${name}`);
  return value;
}

/** The repository file the stack's Lookout reads as /etc/lookout/lookout.yaml (the image's own copy of config/lookout.yaml when nothing is mounted there). */
function lookoutConfigPath(): string {
  return hostPath(service('lookout'), '/etc/lookout/lookout.yaml') ?? join(ROOT, 'config/lookout.yaml');
}

/** A Prometheus duration of days or hours, in days. */
function days(duration: string): number {
  const m = /^(\d+)([dhwy])$/.exec(duration);
  if (!m) throw new Error(`not a duration of days, hours, weeks or years: ${duration}`);
  return Number(m[1]) * { h: 1 / 24, d: 1, w: 7, y: 365 }[m[2] as 'h' | 'd' | 'w' | 'y'];
}

/** The container port a service publishes, by container port. */
function publishes(s: Service, port: number): boolean {
  return (s.ports ?? []).some((p) => p.split(':').at(-1) === String(port));
}

describe('docker-compose.yml', () => {
  it('passes docker-compose config (no engine needed)', async () => {
    const run = await runTool('docker-compose', ['--project-directory', ROOT, '-f', join(ROOT, 'docker-compose.yml'), 'config', '--quiet']);
    expect(run.output).toBe('');
    expect(run.code).toBe(0);
  });

  it('runs Lookout, Prometheus, the center, Alertmanager and Grafana, publishing their ports on loopback only', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'center', 'grafana', 'lookout', 'prometheus']);
    const published = { lookout: [9464, 9464], prometheus: [9090, 9090], center: [9091, 9090], alertmanager: [9093, 9093], grafana: [3000, 3000] };
    for (const [name, [host, container]] of Object.entries(published)) {
      expect(service(name).ports, name).toEqual([`127.0.0.1:${host}:${container}`]);
    }
    for (const name of ['prometheus', 'center', 'alertmanager', 'grafana']) expect(service(name).image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
  });

  it('mounts only paths that exist, and declares every named volume', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] ?? '';
        if (source.startsWith('.')) expect(existsSync(join(ROOT, source)), `${name}: ${v}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: ${v}`).toContain(source);
      }
    }
  });

  it('builds Lookout from this repository, with the catalogs where the image’s config reads them', () => {
    const lookout = service('lookout');
    const context = typeof lookout.build === 'string' ? lookout.build : lookout.build?.context;
    expect(existsSync(join(ROOT, context ?? '', 'Dockerfile'))).toBe(true);
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^COPY probes \/etc\/probes$/m);
    expect(dockerfile).toMatch(/^EXPOSE 9464$/m);
    expect(hostPath(lookout, '/etc/probes')).toBe(join(ROOT, 'probes'));
  });

  it('gives Prometheus the shipped config, whose rules, scrape target and Alertmanager are all there', () => {
    const prometheus = service('prometheus');
    const configPath = hostPath(prometheus, flag(prometheus, 'config.file'));
    expect(configPath).toBe(join(ROOT, 'config/prometheus/prometheus.yml'));
    const config = parse(readFileSync(configPath ?? '', 'utf8')) as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
    };
    // rule_files are relative to the config file, in the container as in the repository.
    const rules = config.rule_files.flatMap((glob) => {
      const dir = join(dirname(configPath ?? ''), dirname(glob));
      const suffix = posix.basename(glob).replace('*', '');
      return readdirSync(dir).filter((f) => f.endsWith(suffix)).map((f) => join(dir, f));
    });
    expect(rules).toEqual([join(ROOT, 'config/prometheus/rules/lookout.rules.yml')]);

    const [amHost, amPort] = (config.alerting.alertmanagers[0]?.static_configs[0]?.targets[0] ?? '').split(':');
    expect(amHost).toBe('alertmanager');
    expect(publishes(service('alertmanager'), Number(amPort))).toBe(true);

    const job = config.scrape_configs.find((j) => j.job_name === 'lookout');
    const target = job?.static_configs.find((c) => c.targets.some((t) => t.startsWith('lookout:')));
    expect(target?.targets).toEqual(['lookout:9464']);
    // The config the stack's Lookout runs: its vantage.id is what the daemon's series carry.
    const lookoutConfig = parse(readFileSync(lookoutConfigPath(), 'utf8')) as { vantage: { id: string }; server: { listen: string } };
    expect(target?.labels?.vantage).toBe(lookoutConfig.vantage.id);
    expect(lookoutConfig.server.listen.endsWith(':9464')).toBe(true);
  });

  it('runs Lookout on the default config plus remote_write, and nothing else changed', () => {
    expect(lookoutConfigPath()).toBe(join(ROOT, 'config/lookout-compose.yaml'));
    const own = parse(readFileSync(lookoutConfigPath(), 'utf8')) as Record<string, unknown> & { storage: Record<string, unknown> };
    const base = parse(readFileSync(join(ROOT, 'config/lookout.yaml'), 'utf8')) as Record<string, unknown> & { storage: Record<string, unknown> };
    // The image's Dockerfile rewrites storage.dir to its volume; the compose config names it.
    expect(own.storage.dir).toBe('/var/lib/lookout');
    expect((service('lookout').volumes ?? []).some((v) => v.endsWith(':/var/lib/lookout'))).toBe(true);
    const { remote_write: _rw, storage: { dir: _d, ...ownStorage }, ...ownRest } = own;
    const { storage: { dir: _b, ...baseStorage }, ...baseRest } = base;
    expect({ ...ownRest, storage: ownStorage }).toEqual({ ...baseRest, storage: baseStorage });
  });

  it('passes lookout check-config (the built daemon), catalogs resolved as in the container', async () => {
    const run = await runTool(process.execPath, [join(ROOT, 'dist/main.js'), 'check-config', '--config', lookoutConfigPath()]);
    expect(run.output).toMatch(/: ok \(\d+ targets/);
    expect(run.code).toBe(0);
  });

  it('gives the center the receiver config and flag, retention past its out-of-order window, and Lookout writes to it', () => {
    const center = service('center');
    expect(hostPath(center, flag(center, 'config.file'))).toBe(join(ROOT, 'config/prometheus/prometheus-center.yml'));
    expect(center.command).toContain('--web.enable-remote-write-receiver');
    const config = parse(readFileSync(join(ROOT, 'config/prometheus/prometheus-center.yml'), 'utf8')) as { storage: { tsdb: { out_of_order_time_window: string } } };
    expect(days(flag(center, 'storage.tsdb.retention.time'))).toBeGreaterThan(days(config.storage.tsdb.out_of_order_time_window));
    expect(Object.keys(compose.volumes)).toContain('center-data');

    const lookout = parse(readFileSync(lookoutConfigPath(), 'utf8')) as { remote_write: { url: string; name?: string }[] };
    expect(lookout.remote_write).toHaveLength(1);
    const url = new URL(lookout.remote_write[0]?.url ?? '');
    expect(url.hostname).toBe('center');
    // Inside the compose network the center listens on its container port.
    expect(publishes(center, Number(url.port))).toBe(true);
    expect(url.pathname).toBe('/api/v1/write');
  });

  it('gives Alertmanager the example config', () => {
    const am = service('alertmanager');
    expect(hostPath(am, flag(am, 'config.file'))).toBe(join(ROOT, 'config/alertmanager/alertmanager.yml'));
    expect(statSync(join(ROOT, 'config/alertmanager/alertmanager.yml')).isFile()).toBe(true);
  });
});
