import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DASHBOARD_DIR,
  allPanels,
  dashboardQueries,
  loadDashboards,
  substitute,
  variableQueryExpr,
  variableRefs,
  type GrafanaDashboard,
} from '../fixtures/dashboards.js';
import { exportedSeriesNames, metricNamesIn, promtoolCheckExpressions } from '../fixtures/promtool.js';

// The Grafana dashboards and their provisioning, checked without a Grafana: structure, uids,
// the path the provisioning loads them from (through the compose mounts), datasource and
// variable references, and every PromQL expression parsed by promtool.

const ROOT = resolve(import.meta.dirname, '../..');
const PROVISIONING = join(ROOT, 'grafana/provisioning');
const DATASOURCE_UID = 'lookout-prometheus';
/** Grafana's own variables, always defined. */
const BUILTIN = /^__/;

interface ComposeService {
  volumes?: string[];
  environment?: Record<string, string>;
  ports?: string[];
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const grafana = compose.services.grafana;

/** The host path a container path of the grafana service maps to through its bind mounts. */
function hostPath(containerPath: string): string | null {
  let best: { target: string; source: string } | null = null;
  for (const v of grafana?.volumes ?? []) {
    const [source, target] = v.split(':');
    if (!source?.startsWith('.') || target === undefined) continue;
    const inside = containerPath === target || containerPath.startsWith(`${target}/`);
    if (inside && (best === null || target.length > best.target.length)) best = { target, source };
  }
  return best === null ? null : join(ROOT, best.source, posix.relative(best.target, containerPath));
}

const dashboards = loadDashboards();

/** Every value under a `datasource` key anywhere in the JSON. */
function datasourceRefs(node: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const x of node) datasourceRefs(x, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'datasource') out.push(v);
      else datasourceRefs(v, out);
    }
  }
  return out;
}

/** Every string anywhere in the JSON. */
function strings(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const x of node) strings(x, out);
  else if (node !== null && typeof node === 'object') for (const v of Object.values(node)) strings(v, out);
  return out;
}

describe('grafana/dashboards', () => {
  it('has the three dashboards, each valid JSON with a unique uid and title', () => {
    expect(dashboards.map((d) => relative(DASHBOARD_DIR, d.file))).toEqual(['country.json', 'health.json', 'overview.json']);
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(dashboards.map((d) => d.dashboard.title)).size).toBe(dashboards.length);
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.uid, file).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(dashboard.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(dashboard.panels.length, file).toBeGreaterThan(0);
    }
  });

  it('lays out panels with unique ids on the 24-column grid without overlaps', () => {
    for (const { file, dashboard } of dashboards) {
      const panels = allPanels(dashboard.panels);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
      const boxes = panels.map((p) => {
        const g = p.gridPos;
        expect(g, `${file}: ${p.title}`).toBeDefined();
        return { title: p.title ?? '', x: g?.x ?? 0, y: g?.y ?? 0, w: g?.w ?? 0, h: g?.h ?? 0 };
      });
      for (const b of boxes) {
        expect(b.x + b.w, `${file}: ${b.title}`).toBeLessThanOrEqual(24);
        expect(b.w * b.h, `${file}: ${b.title}`).toBeGreaterThan(0);
      }
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) {
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${file}: "${a.title}" overlaps "${b.title}"`).toBe(false);
        }
      }
    }
  });

  it('has the panels the issue asks for', () => {
    const titles = (uid: string): string[] => allPanels(dashboards.find((d) => d.dashboard.uid === uid)?.dashboard.panels ?? []).map((p) => p.title ?? '');
    const types = (uid: string): string[] => allPanels(dashboards.find((d) => d.dashboard.uid === uid)?.dashboard.panels ?? []).map((p) => p.type);
    expect(types('lookout-overview')).toContain('geomap');
    expect(titles('lookout-overview')).toEqual(expect.arrayContaining(['Reachability by country', 'Active disruptions', 'Reachability over time']));
    expect(titles('lookout-country')).toEqual(
      expect.arrayContaining(['Reachability per ASN', 'Reachability per category', 'Failure reasons', 'Latency against baseline', 'Targets']),
    );
    expect(titles('lookout-health')).toEqual(
      expect.arrayContaining(['Probe rate', 'Scheduler lag', 'Probes in flight', 'Config reloads', 'CPU', 'Memory']),
    );
    for (const uid of ['lookout-overview', 'lookout-country']) {
      const d = dashboards.find((x) => x.dashboard.uid === uid)?.dashboard;
      expect(d?.annotations?.list.some((a) => a.expr?.includes('lookout_disruption_active')), uid).toBe(true);
    }
  });

  it('refers only to the provisioned Prometheus datasource, by uid', () => {
    for (const { file, dashboard } of dashboards) {
      const refs = datasourceRefs(dashboard);
      expect(refs.length, file).toBeGreaterThan(0);
      for (const ref of refs) expect(ref, file).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
    }
  });

  it('uses only the template variables it defines (and Grafana built-ins)', () => {
    for (const { file, dashboard } of dashboards) {
      const defined = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
      const used = new Set(strings(dashboard).flatMap(variableRefs));
      for (const name of used) if (!BUILTIN.test(name)) expect(defined, `${file}: $${name}`).toContain(name);
      // And defines none it never uses.
      for (const name of defined) expect(used, `${file}: $${name} unused`).toContain(name);
    }
  });

  it('are each described in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Prometheus, Alertmanager and Grafana'));
    expect(section).toContain('docker compose up');
    for (const { dashboard } of dashboards) expect(section).toContain(`*${dashboard.title}*`);
  });

  it('links only to dashboards that exist', () => {
    const uids = new Set(dashboards.map((d) => d.dashboard.uid));
    for (const { file, dashboard } of dashboards) {
      for (const s of strings(dashboard)) {
        for (const m of s.matchAll(/\/d\/([^/?]+)/g)) expect(uids, `${file}: ${s}`).toContain(m[1]);
      }
    }
  });
});

describe('dashboard queries', () => {
  const queries = dashboardQueries();

  it('come from every dashboard, with panel, variable and annotation queries, variables substituted', () => {
    for (const { dashboard } of dashboards) {
      const own = queries.filter((q) => q.dashboard === dashboard.title);
      expect(own.length, dashboard.title).toBeGreaterThan(3);
      expect(own.some((q) => q.panel === 'variable $vantage'), dashboard.title).toBe(true);
      expect(own.some((q) => q.panel.startsWith('annotation ')), dashboard.title).toBe(true);
    }
    for (const q of queries) expect(q.expr, `${q.dashboard} / ${q.panel}`).not.toMatch(/\$(?!\d)|\[\[/);
    const country = queries.filter((q) => q.dashboard === 'Lookout / Country' && q.panel === 'Reachability');
    expect(country.map((q) => q.expr)).toEqual(['lookout_country_reachability_ratio{country="KZ", vantage=~".*"}']);
    expect(dashboardQueries({ country: 'BY', vantage: 'fra-1' }).find((q) => q.dashboard === 'Lookout / Country' && q.panel === 'Reachability')?.expr).toBe(
      'lookout_country_reachability_ratio{country="BY", vantage=~"fra-1"}',
    );
  });

  it('substitutes every variable syntax, keeps regex back-references, and refuses unknown variables', () => {
    expect(substitute('a{x="$country",y=~"${vantage}",z="[[country]]"}[${__rate_interval}] "$1"', { country: 'KZ', vantage: '.*', __rate_interval: '1m' })).toBe(
      'a{x="KZ",y=~".*",z="KZ"}[1m] "$1"',
    );
    expect(() => substitute('x{c="$nope"}', {})).toThrow('$nope');
    expect(variableQueryExpr('label_values(lookout_target_up{vantage=~"$vantage"}, country)')).toBe('lookout_target_up{vantage=~"$vantage"}');
    expect(() => variableQueryExpr('label_values(country)')).toThrow();
  });

  it('all parse (promtool check rules on them as recording rules)', async () => {
    const run = await promtoolCheckExpressions(queries.map((q) => q.expr));
    expect(run.output).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(run.code).toBe(0);
  });

  it('a broken expression fails that check, so the one above can fail', async () => {
    const run = await promtoolCheckExpressions(['sum by (country) (lookout_target_up{country="KZ"}']);
    expect(run.code).not.toBe(0);
  });

  it('read only series a Lookout daemon exports or the shipped rules record', () => {
    const known = exportedSeriesNames();
    const rules = parse(readFileSync(join(ROOT, 'config/prometheus/rules/lookout.rules.yml'), 'utf8')) as { groups: { rules: { record?: string }[] }[] };
    for (const g of rules.groups) for (const r of g.rules) if (r.record) known.add(r.record);
    const read = new Set<string>();
    for (const q of queries) {
      for (const name of metricNamesIn(q.expr)) {
        read.add(name);
        expect(known.has(name), `${q.dashboard} / ${q.panel}: ${name}`).toBe(true);
      }
    }
    expect(read.size).toBeGreaterThan(15);
  });
});

describe('grafana/provisioning', () => {
  it('is mounted where Grafana reads provisioning from', () => {
    expect(hostPath('/etc/grafana/provisioning')).toBe(PROVISIONING);
  });

  it('provisions the datasource the dashboards use, pointing at the compose Prometheus', () => {
    const files = readdirSync(join(PROVISIONING, 'datasources'));
    const sources = files.flatMap(
      (f) => (parse(readFileSync(join(PROVISIONING, 'datasources', f), 'utf8')) as { datasources: { uid: string; type: string; url: string }[] }).datasources,
    );
    const ds = sources.find((s) => s.uid === DATASOURCE_UID);
    expect(ds?.type).toBe('prometheus');
    const url = new URL(ds?.url ?? '');
    expect(Object.keys(compose.services)).toContain(url.hostname);
    expect(compose.services[url.hostname]?.ports?.some((p) => p.endsWith(`:${url.port}`))).toBe(true);
  });

  it('loads every dashboard file through a dashboard provider, via the compose mounts', () => {
    const files = readdirSync(join(PROVISIONING, 'dashboards'));
    const providers = files.flatMap(
      (f) => (parse(readFileSync(join(PROVISIONING, 'dashboards', f), 'utf8')) as { providers: { type: string; options: { path: string } }[] }).providers,
    );
    expect(providers.length).toBeGreaterThan(0);
    const loaded = new Set<string>();
    for (const p of providers) {
      expect(p.type).toBe('file');
      const dir = hostPath(p.options.path);
      expect(dir, p.options.path).not.toBeNull();
      if (dir === null || !existsSync(dir)) continue;
      // Grafana's file provider reads the folder and its subfolders.
      const walk = (d: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(d, e.name));
          else if (e.name.endsWith('.json')) loaded.add(join(d, e.name));
        }
      };
      walk(dir);
    }
    expect([...loaded].sort()).toEqual(dashboards.map((d) => d.file).sort());
  });

  it('makes the overview the home dashboard', () => {
    const home = grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    const file = hostPath(home);
    expect(file).toBe(join(DASHBOARD_DIR, 'overview.json'));
    expect((JSON.parse(readFileSync(file ?? '', 'utf8')) as GrafanaDashboard).uid).toBe('lookout-overview');
  });
});
