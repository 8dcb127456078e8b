import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-rwconfig-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(remoteWrite: string): Promise<string> {
  const path = join(dir, `c${n++}.yaml`);
  await writeFile(path, `vantage: { id: kz-1 }\nremote_write:\n${remoteWrite}\n`);
  return path;
}

async function problems(remoteWrite: string): Promise<string[]> {
  try {
    await loadConfig(await write(remoteWrite));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be invalid');
}

describe('remote_write config', () => {
  it('applies the defaults, names remotes by position and resolves credential files against the config file', async () => {
    const config = await loadConfig(
      await write(`  - url: http://127.0.0.1:9090/api/v1/write
    bearer_token_file: secrets/token
  - url: https://127.0.0.1:9443/api/v1/write
    name: center
    basic_auth: { username: u, password_file: pw }
    tls: { ca_file: ca.pem }
    queue: { max_bytes: 1GiB, batch_samples: 100, send_interval: 500ms }`),
    );
    expect(config.remote_write).toEqual([
      {
        url: 'http://127.0.0.1:9090/api/v1/write',
        name: 'rw0',
        headers: {},
        bearer_token_file: join(dir, 'secrets/token'),
        queue: { max_bytes: 256 * 1024 * 1024, batch_samples: 5000, send_interval: 5000 },
      },
      {
        url: 'https://127.0.0.1:9443/api/v1/write',
        name: 'center',
        headers: {},
        basic_auth: { username: 'u', password_file: join(dir, 'pw') },
        tls: { ca_file: join(dir, 'ca.pem'), insecure_skip_verify: false },
        queue: { max_bytes: 1024 ** 3, batch_samples: 100, send_interval: 500 },
      },
    ]);
  });

  it('is empty when absent', async () => {
    const path = join(dir, 'none.yaml');
    await writeFile(path, 'vantage: { id: kz-1 }\n');
    expect((await loadConfig(path)).remote_write).toEqual([]);
  });

  it('names the field of each mistake', async () => {
    const got = await problems(`  - url: ftp://127.0.0.1/
    name: Center!
    queue: { max_bytes: 12 parsecs, batch_samples: 0, sending: 1 }
  - { url: "http://127.0.0.1:1/", name: a, basic_auth: { username: u } }
  - { url: "http://127.0.0.1:1/", name: a, bearer_token_file: t, basic_auth: { username: u, password: p } }`);
    const text = got.join('\n');
    expect(text).toContain('remote_write.0.url');
    expect(text).toContain('remote_write.0.name');
    expect(text).toContain('remote_write.0.queue.max_bytes');
    expect(text).toContain('remote_write.0.queue.batch_samples');
    expect(text).toContain('sending');
    expect(text).toContain('exactly one of password and password_file');
    expect(text).toContain('at most one of bearer_token_file and basic_auth');
  });

  it('refuses two remotes with the same name', async () => {
    const got = await problems(`  - { url: "http://127.0.0.1:1/", name: center }\n  - { url: "http://127.0.0.1:2/", name: center }`);
    expect(got.join('\n')).toContain('duplicate remote_write name "center"');
  });

  it('refuses a queue budget too small to hold a segment', async () => {
    const got = await problems(`  - { url: "http://127.0.0.1:1/", queue: { max_bytes: 1KiB } }`);
    expect(got.join('\n')).toContain('at least 64KiB');
  });
});
