import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-icmp-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(targets: string): Promise<string> {
  const path = join(dir, `lookout-${n++}.yaml`);
  await writeFile(path, `vantage: { id: test-1, country: DE }\ntargets:\n${targets}`);
  return path;
}

async function problemsOf(path: string): Promise<string[]> {
  const err = await loadConfig(path).catch((e: unknown) => e);
  if (!(err instanceof ConfigError)) throw new Error('expected a ConfigError');
  return err.problems;
}

describe('icmp targets in the config', () => {
  it('takes one host or a block of hosts, IPv4 and IPv6, with the usual target fields', async () => {
    const config = await loadConfig(
      await write(
        [
          '  - { id: kz-gw, kind: icmp, host: 127.0.0.1, country: KZ, asn: 9198, category: isp-router, timeout: 2s }',
          '  - { id: kz-block, kind: icmp, hosts: [127.0.0.1, "::1", localhost], country: KZ, category: isp-block }',
        ].join('\n') + '\n',
      ),
    );
    const [one, block] = config.targets;
    expect(one).toMatchObject({ id: 'kz-gw', kind: 'icmp', host: '127.0.0.1', country: 'KZ', asn: 9198, category: 'isp-router', timeout: 2000 });
    expect(block).toMatchObject({ id: 'kz-block', kind: 'icmp', hosts: ['127.0.0.1', '::1', 'localhost'] });
  });

  it('rejects a target with neither or both of host and hosts, naming the field', async () => {
    const neither = await problemsOf(await write('  - { id: a, kind: icmp, country: KZ }\n'));
    expect(neither.join('\n')).toMatch(/host.*exactly one of host or hosts/);
    const both = await problemsOf(await write('  - { id: a, kind: icmp, host: 127.0.0.1, hosts: [127.0.0.2], country: KZ }\n'));
    expect(both.join('\n')).toMatch(/exactly one of host or hosts/);
  });

  it('rejects an empty block, a bad host and a port (icmp has none)', async () => {
    expect((await problemsOf(await write('  - { id: a, kind: icmp, hosts: [], country: KZ }\n'))).join('\n')).toMatch(/hosts.*at least one host/);
    expect((await problemsOf(await write('  - { id: a, kind: icmp, host: "a b", country: KZ }\n'))).join('\n')).toMatch(/host name or an IP address/);
    expect((await problemsOf(await write('  - { id: a, kind: icmp, host: 127.0.0.1, port: 7, country: KZ }\n'))).join('\n')).toMatch(/port/);
  });
});
