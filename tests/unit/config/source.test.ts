import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';
import { targetName, targetPath } from '../../../src/config/schema.js';

// Source binding in the config: where `source:` may be written, how a catalog is probed through
// each uplink, how ids stay unique per path, and problems that name the field.

let scratch: string;
let counter = 0;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lookout-source-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<string> {
  const dir = join(scratch, `case-${counter++}`);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return join(dir, 'lookout.yaml');
}

async function problemsOf(file: string): Promise<string[]> {
  try {
    await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`expected ${file} to be invalid`);
}

const HEAD = 'vantage: { id: t }\n';
const CATALOG = `country: KZ
targets:
  - { id: kz-a, kind: tcp, host: 127.0.0.1, port: 443 }
  - { id: kz-b, kind: dns, server: "127.0.0.1:53", query: { name: example.kz } }
`;

describe('source binding in the config', () => {
  it('probes a catalog through each source of its entry: one target per (id, path)', async () => {
    const file = await tree({
      'lookout.yaml': `${HEAD}catalogs:
  - "kz.yaml"
  - file: "kz.yaml"
    sources:
      - { address: 127.0.0.2, name: isp-a }
      - { interface: lo }
`,
      'kz.yaml': CATALOG,
    });
    const config = await loadConfig(file);
    const ids = config.targets.map((t) => t.id).sort();
    expect(ids).toEqual(['kz-a', 'kz-a@isp-a', 'kz-a@lo', 'kz-b', 'kz-b@isp-a', 'kz-b@lo']);
    const a = config.targets.find((t) => t.id === 'kz-a@isp-a');
    expect(a?.bind).toEqual({ name: 'isp-a', address: '127.0.0.2' });
    expect(a && targetName(a)).toBe('kz-a');
    expect(a && targetPath(a)).toBe('isp-a');
    // The name defaults to the interface (or the address).
    expect(config.targets.find((t) => t.id === 'kz-a@lo')?.bind).toEqual({ name: 'lo', interface: 'lo' });
    const plain = config.targets.find((t) => t.id === 'kz-a');
    expect(plain?.bind).toBeUndefined();
    expect(plain && targetPath(plain)).toBe('');
    expect(config.catalogs).toEqual(['kz.yaml', 'kz.yaml']);
  });

  it('takes a catalog-level source for every target unless the target sets its own', async () => {
    const file = await tree({
      'lookout.yaml': `${HEAD}catalogs: ["kz.yaml"]
targets:
  - { id: inline, kind: tcp, host: 127.0.0.1, port: 80, country: KZ, source: { address: "::1" } }
`,
      'kz.yaml': `country: KZ
source: { address: 127.0.0.3, name: isp-b }
targets:
  - { id: kz-a, kind: tcp, host: 127.0.0.1, port: 443 }
  - { id: kz-own, kind: tcp, host: 127.0.0.1, port: 443, source: { interface: lo, name: isp-c } }
`,
    });
    const config = await loadConfig(file);
    const byId = new Map(config.targets.map((t) => [t.id, t]));
    expect([...byId.keys()].sort()).toEqual(['inline@::1', 'kz-a@isp-b', 'kz-own@isp-c']);
    expect(byId.get('kz-a@isp-b')?.bind).toEqual({ name: 'isp-b', address: '127.0.0.3' });
    expect(byId.get('inline@::1')?.path).toBe('::1');
  });

  it('names the field of a bad source', async () => {
    const file = await tree({
      'lookout.yaml': `${HEAD}targets:
  - { id: both, kind: tcp, host: 127.0.0.1, port: 1, country: KZ, source: { address: 127.0.0.2, interface: lo } }
  - { id: neither, kind: tcp, host: 127.0.0.1, port: 1, country: KZ, source: { name: x } }
  - { id: badaddr, kind: tcp, host: 127.0.0.1, port: 1, country: KZ, source: { address: not-an-ip } }
  - { id: badkey, kind: tcp, host: 127.0.0.1, port: 1, country: KZ, source: { address: 127.0.0.2, via: eth0 } }
catalogs:
  - { file: "kz.yaml", sources: [] }
`,
      'kz.yaml': CATALOG,
    });
    expect(await problemsOf(file)).toEqual([
      'catalogs.0.sources: Too small: expected array to have >=1 items',
      'targets.0 (both).source.interface: set either address or interface, not both',
      'targets.1 (neither).source.address: required: set address (a local IP) or interface (such as eth1)',
      'targets.2 (badaddr).source.address: must be an IP address',
      'targets.3 (badkey).source.via: unknown key',
    ]);
  });

  it('keeps ids unique per path, and one path name for one binding', async () => {
    const file = await tree({
      'lookout.yaml': `${HEAD}catalogs:
  - { file: "kz.yaml", sources: [{ address: 127.0.0.2, name: isp-a }] }
  - { file: "kz.yaml", sources: [{ address: 127.0.0.2, name: isp-a }, { address: 127.0.0.3, name: isp-b }] }
  - { file: "kz.yaml", sources: [{ address: 127.0.0.4, name: isp-b }] }
`,
      'kz.yaml': CATALOG,
    });
    const problems = await problemsOf(file);
    expect(problems).toContain('catalogs.2.sources.0.name: path name "isp-b" already names address 127.0.0.3 (catalogs.1.sources.1); give this source another name');
    expect(problems).toContain('kz.yaml: targets.0 (kz-a): duplicate id on path isp-a, first defined in kz.yaml targets.0');
    expect(problems).toContain('kz.yaml: targets.1 (kz-b): duplicate id on path isp-a, first defined in kz.yaml targets.1');
  });
});
