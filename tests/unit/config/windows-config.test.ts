import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-windows-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(windows: string): Promise<string> {
  const path = join(dir, `c${n++}.yaml`);
  await writeFile(path, `vantage: { id: kz-1 }\nwindows:\n${windows}\n`);
  return path;
}

async function problems(windows: string): Promise<string[]> {
  try {
    await loadConfig(await write(windows));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be invalid');
}

describe('windows config', () => {
  it('parses the three kinds with their defaults', async () => {
    const config = await loadConfig(
      await write(`  - { name: iq-exams, kind: expected, cron: "0 6 * 6 0-4", duration: 2h, timezone: Asia/Baghdad, countries: [IQ], reason: exam, source: "https://example.org/notice" }
  - { name: kz-election, kind: watch, cron: "0 0 9 6 *", duration: 24h, timezone: Asia/Almaty, countries: [KZ], interval: 10s }
  - { name: weekly, kind: maintenance, cron: "0 3 * * 0", duration: 30m }`),
    );
    expect(config.windows).toEqual([
      { name: 'iq-exams', kind: 'expected', cron: '0 6 * 6 0-4', duration: 7_200_000, timezone: 'Asia/Baghdad', countries: ['IQ'], reason: 'exam', source: 'https://example.org/notice' },
      { name: 'kz-election', kind: 'watch', cron: '0 0 9 6 *', duration: 86_400_000, timezone: 'Asia/Almaty', countries: ['KZ'], interval: 10_000 },
      { name: 'weekly', kind: 'maintenance', cron: '0 3 * * 0', duration: 1_800_000, timezone: 'UTC', countries: [] },
    ]);
  });

  it('defaults to no windows', async () => {
    const path = join(dir, 'none.yaml');
    await writeFile(path, 'vantage: { id: kz-1 }\n');
    expect((await loadConfig(path)).windows).toEqual([]);
  });

  it("names the window and the field node-cron's own validation finds wrong", async () => {
    expect(
      await problems(`  - { name: a, kind: maintenance, cron: "61 6 * * *", duration: 1h }
  - { name: b, kind: maintenance, cron: "0 25 * * 1-5", duration: 1h }
  - { name: c, kind: maintenance, cron: "0 6 * * 8", duration: 1h }
  - { name: d, kind: maintenance, cron: "every day", duration: 1h }`),
    ).toEqual([
      'windows.0.cron: window "a": minute: 61 is a invalid expression for minute',
      'windows.1.cron: window "b": hour: 25 is a invalid expression for hour',
      'windows.2.cron: window "c": dayOfWeek: 8 is a invalid expression for week day',
      'windows.3.cron: window "d": expression: expected 5 or 6 fields but got 2',
    ]);
  });

  it('rejects an unknown zone, a watch without interval, an interval or reason on the wrong kind and a duration over 7 days', async () => {
    const found = await problems(`  - { name: a, kind: maintenance, cron: "0 3 * * *", duration: 1h, timezone: Mars/Olympus }
  - { name: b, kind: watch, cron: "0 3 * * *", duration: 1h }
  - { name: c, kind: expected, cron: "0 3 * * *", duration: 1h, interval: 10s }
  - { name: d, kind: maintenance, cron: "0 3 * * *", duration: 1h, reason: exam }
  - { name: e, kind: maintenance, cron: "0 3 * * *", duration: 200h }`);
    expect(found).toEqual([
      'windows.0.timezone: must be an IANA time zone such as Asia/Baghdad or UTC',
      'windows.1.interval: window "b": a watch window needs an interval',
      'windows.2.interval: window "c": only a watch window has an interval',
      'windows.3.reason: window "d": only an expected window has a reason and a source',
      'windows.4.duration: must be at most 7 days (168h)',
    ]);
  });

  it('rejects duplicate names', async () => {
    expect(
      await problems(`  - { name: d, kind: maintenance, cron: "0 3 * * *", duration: 1h }
  - { name: d, kind: maintenance, cron: "0 4 * * *", duration: 1h }`),
    ).toEqual(['windows.1.name: duplicate window name "d"']);
  });
});
