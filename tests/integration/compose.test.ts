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

  it('runs Lookout, Prometheus, Alertmanager and Grafana, publishing their ports on loopback only', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'grafana', 'lookout', 'prometheus']);
    const published = { lookout: 9464, prometheus: 9090, alertmanager: 9093, grafana: 3000 };
    for (const [name, port] of Object.entries(published)) {
      expect(service(name).ports, name).toEqual([`127.0.0.1:${port}:${port}`]);
    }
    for (const name of ['prometheus', 'alertmanager', 'grafana']) expect(service(name).image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
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
    // The image runs config/lookout.yaml: its vantage.id is what the daemon's series carry.
    const lookoutConfig = parse(readFileSync(join(ROOT, 'config/lookout.yaml'), 'utf8')) as { vantage: { id: string }; server: { listen: string } };
    expect(target?.labels?.vantage).toBe(lookoutConfig.vantage.id);
    expect(lookoutConfig.server.listen.endsWith(':9464')).toBe(true);
  });

  it('gives Alertmanager the example config', () => {
    const am = service('alertmanager');
    expect(hostPath(am, flag(am, 'config.file'))).toBe(join(ROOT, 'config/alertmanager/alertmanager.yml'));
    expect(statSync(join(ROOT, 'config/alertmanager/alertmanager.yml')).isFile()).toBe(true);
  });
});
