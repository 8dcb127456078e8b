import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';

// The dot and doh kinds through the real loader: defaults, and problems that name the field.

let scratch: string;
let counter = 0;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lookout-encdns-config-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function write(targets: string): Promise<string> {
  const file = join(scratch, `lookout-${counter++}.yaml`);
  await writeFile(file, `vantage: { id: test-1, country: DE }\ntargets:\n${targets}`);
  return file;
}

async function problemsOf(targets: string): Promise<string[]> {
  try {
    await loadConfig(await write(targets));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be invalid');
}

describe('dot and doh targets in the config', () => {
  it('load with their defaults: verification on, doh POSTs, the dns expectations', async () => {
    const config = await loadConfig(
      await write(`  - { id: d1, kind: dot, server: "192.0.2.53:853", query: { name: example.kz } }
  - { id: d2, kind: doh, url: "https://dns.example/dns-query", query: { name: example.kz, type: AAAA }, expect: { answers_in: ["2001:db8::/32"] } }
  - { id: d3, kind: doh, url: "https://dns.example/dns-query", method: GET, ip: 192.0.2.54, insecure_skip_verify: true, query: { name: example.kz } }
`),
    );
    expect(config.targets.map((t) => t.kind)).toEqual(['dot', 'doh', 'doh']);
    expect(config.targets[0]).toMatchObject({ kind: 'dot', insecure_skip_verify: false, query: { type: 'A' }, expect: { rcode: 'NOERROR' } });
    expect(config.targets[1]).toMatchObject({ kind: 'doh', method: 'POST', insecure_skip_verify: false });
    expect(config.targets[2]).toMatchObject({ kind: 'doh', method: 'GET', ip: '192.0.2.54', insecure_skip_verify: true });
  });

  it('names the field of each problem', async () => {
    expect(
      await problemsOf(`  - { id: a, kind: dot, server: "192.0.2.53", query: { name: example.kz } }
  - { id: b, kind: doh, url: "http://dns.example/dns-query", query: { name: example.kz } }
  - { id: c, kind: doh, url: "https://dns.example/dns-query", method: PUT, query: { name: example.kz } }
  - { id: d, kind: dot, server: "192.0.2.53:853", query: { name: example.kz, type: TXT }, expect: { answers_in: [192.0.2.0/24] } }
  - { id: e, kind: doh, url: "https://dns.example/dns-query", ip: not-an-ip, query: { name: example.kz } }
  - { id: f, kind: dot, server: "192.0.2.53:853", headers: {}, query: { name: example.kz } }
`),
    ).toEqual([
      expect.stringMatching(/^targets\.0 \(a\)\.server: must be host:port/),
      expect.stringMatching(/^targets\.1 \(b\)\.url: must be an https:\/\/ URL/),
      expect.stringMatching(/^targets\.2 \(c\)\.method: /),
      'targets.3 (d).expect.answers_in: only applies to A and AAAA queries (query.type is TXT)',
      'targets.4 (e).ip: must be an IP address',
      'targets.5 (f).headers: unknown key',
    ]);
  });
});
