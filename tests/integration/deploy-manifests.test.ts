import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

// The Kubernetes manifests of deploy/kubernetes/, checked offline: each against the JSON
// schema of its kind that the npm packages kubernetes-models (the Kubernetes API) and
// @kubernetes-models/prometheus-operator (PodMonitor) ship compiled (types, required fields,
// enums, formats; like Kubernetes' own OpenAPI schemas they do not refuse unknown fields, which
// only an API server's strict field validation would), then against each other, and the
// ConfigMap's lookout.yaml with Lookout's own loader for every pod of the set.

const ROOT = resolve(import.meta.dirname, '../..');
const DIR = join(ROOT, 'deploy/kubernetes');

/** Kubernetes kinds by apiVersion/kind, each a class whose validate() throws on a schema error. */
const KINDS: Record<string, new (doc: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/StatefulSet': StatefulSet,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Manifest));
const one = (kind: string): Manifest => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Manifest;
};

/** Validates `doc` against its kind's schema; the error message, or null when valid. */
function schemaError(doc: Manifest): string | null {
  const Kind = KINDS[`${doc.apiVersion}/${doc.kind}`];
  if (Kind === undefined) return `no schema for ${doc.apiVersion} ${doc.kind}`;
  try {
    new Kind(doc as never).validate();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'lookout-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/kubernetes', () => {
  it('has the StatefulSet, its headless Service, the PodMonitor and the ConfigMap, each valid against its schema', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'PodMonitor', 'Service', 'StatefulSet']);
    for (const m of manifests) expect(schemaError(m), `${m.kind} ${m.metadata.name}`).toBeNull();
  });

  it('the schema check refuses what Kubernetes would refuse, so the check above means something', () => {
    const set = structuredClone(one('StatefulSet'));
    (set.spec as Record<string, unknown>).replicas = 'three';
    expect(schemaError(set)).toMatch(/replicas must be integer/);
    const monitor = structuredClone(one('PodMonitor'));
    (monitor.spec as { podMetricsEndpoints: Record<string, unknown>[] }).podMetricsEndpoints[0] = { port: 'metrics', honorLabels: 'yes' };
    expect(schemaError(monitor)).toMatch(/honorLabels must be boolean/);
    const service = structuredClone(one('Service'));
    delete (service.spec as Record<string, unknown>).ports;
    (service.spec as Record<string, unknown>).type = 'Headless';
    expect(schemaError(service)).toMatch(/type must be equal to one of the allowed values/);
  });

  it('fits together: the headless Service and the PodMonitor select the pods and scrape their metrics port', () => {
    const set = one('StatefulSet').spec as {
      serviceName: string;
      selector: { matchLabels: Record<string, string> };
      template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports: { name: string; containerPort: number }[]; volumeMounts: { mountPath: string }[] }[]; volumes: { configMap?: { name: string } }[] } };
    };
    const podLabels = set.template.metadata.labels;
    expect(podLabels).toMatchObject(set.selector.matchLabels);
    const service = one('Service');
    const serviceSpec = service.spec as { clusterIP: string; selector: Record<string, string>; ports: { targetPort: string }[] };
    expect(set.serviceName).toBe(service.metadata.name);
    expect(serviceSpec.clusterIP).toBe('None');
    expect(podLabels).toMatchObject(serviceSpec.selector);
    const monitor = one('PodMonitor').spec as { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string; honorLabels: boolean }[] };
    expect(podLabels).toMatchObject(monitor.selector.matchLabels);
    const ports = set.template.spec.containers.flatMap((c) => c.ports);
    expect(ports).toContainEqual({ name: 'metrics', containerPort: 9464 });
    expect(monitor.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics', honorLabels: true })]);
    expect(serviceSpec.ports.map((p) => p.targetPort)).toEqual(['metrics']);
    expect(set.template.spec.volumes.map((v) => v.configMap?.name)).toContain(one('ConfigMap').metadata.name);
    expect(set.template.spec.containers[0]?.volumeMounts.map((v) => v.mountPath)).toEqual(['/etc/lookout', '/var/lib/lookout']);
  });

  it("the ConfigMap's lookout.yaml loads as pod 0, 1 and 2 of the set (shard from the ordinal) and names blocks.shard.index for an ordinal past the replicas", async () => {
    const replicas = (one('StatefulSet').spec as { replicas: number }).replicas;
    const text = one('ConfigMap').data?.['lookout.yaml'] ?? '';
    // Laid out as in the image: /etc/lookout/lookout.yaml beside /etc/probes.
    mkdirSync(join(scratch, 'etc/lookout'), { recursive: true });
    cpSync(join(ROOT, 'probes'), join(scratch, 'etc/probes'), { recursive: true });
    const file = join(scratch, 'etc/lookout/lookout.yaml');
    writeFileSync(file, text);
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const config = await loadConfig(file, { hostname: `lookout-blocks-${ordinal}` });
      expect(config.blocks?.shard).toEqual({ index: ordinal, count: replicas });
      expect(config.storageDir).toBe('/var/lib/lookout');
    }
    const past = await loadConfig(file, { hostname: `lookout-blocks-${replicas}` }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(past).toBeInstanceOf(ConfigError);
    expect((past as ConfigError).problems).toEqual([expect.stringMatching(/^blocks\.shard\.index: ordinal: 3 .*must be less than count \(3\)/)]);
  });
});
