import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replayCommand } from '../../../src/commands/replay-command.js';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import type { RecordedResult, RecordedVantage } from '../../../src/store/result-schema.js';

// `lookout replay` credits the events to the vantage recorded in the results (issue 27, item 4),
// and says so when it falls back to the config's vantage for results recorded without one.

const CONFIG = `
vantage: { id: cfg-vantage }
targets:
  - { id: kz-1, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: 9 }
  - { id: kz-2, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: 9 }
  - { id: kz-3, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: 9 }
  - { id: kz-4, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: 9 }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: 9 }
  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: 9 }
`;
const TARGETS = ['kz-1', 'kz-2', 'kz-3', 'kz-4', 'ctl-1', 'ctl-2'];
const T0 = 1_765_000_000_000;

/** Ten minutes of results every 10 s: all answer, then for the last five none does (the vantage goes offline). */
function results(vantage?: RecordedVantage): RecordedResult[] {
  const out: RecordedResult[] = [];
  for (let s = 0; s < 600; s += 10) {
    for (const target of TARGETS) {
      const ok = s < 300;
      out.push({
        target,
        kind: 'tcp',
        ok,
        reason: ok ? null : 'tcp_timeout',
        phases: { total: ok ? 0.001 : 5 },
        ip: '127.0.0.1',
        at: T0 + s * 1000,
        ...(vantage ? { vantage } : {}),
      });
    }
  }
  return out;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-replay-'));
  await writeFile(join(dir, 'lookout.yaml'), CONFIG);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function replayLines(lines: readonly RecordedResult[]): Promise<{ code: number; events: DisruptionEvent[]; err: string[]; path: string }> {
  const path = join(dir, 'results.jsonl');
  await writeFile(path, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const out: string[] = [];
  const err: string[] = [];
  const code = await replayCommand(join(dir, 'lookout.yaml'), path, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, events: out.map((l) => JSON.parse(l) as DisruptionEvent), err, path };
}

describe('replay credits the events to a vantage', () => {
  it('to the vantage the results were recorded at, its country and id, and says it is not the config\'s', async () => {
    const { code, events, err, path } = await replayLines(results({ id: 'kz-almaty', country: 'KZ', asn: 9198 }));
    expect(code).toBe(0);
    const offline = events.filter((e) => e.kind === 'vantage_offline');
    expect(offline).toHaveLength(1);
    expect(offline[0]?.country).toBe('KZ');
    expect(offline[0]?.summary).toMatch(/^vantage kz-almaty offline/);
    expect(err).toEqual([`${path}: events credited to vantage "kz-almaty" (KZ, AS9198), where the results were recorded, not to the config's "cfg-vantage"`]);
  });

  it('silently when the recorded vantage is the config\'s', async () => {
    const { code, events, err } = await replayLines(results({ id: 'cfg-vantage' }));
    expect(code).toBe(0);
    expect(events.filter((e) => e.kind === 'vantage_offline').map((e) => e.summary)).toEqual([expect.stringMatching(/^vantage cfg-vantage offline/)]);
    expect(err).toEqual([]);
  });

  it('to the config\'s vantage for results recorded without one, and says so', async () => {
    const { code, events, err, path } = await replayLines(results());
    expect(code).toBe(0);
    const offline = events.filter((e) => e.kind === 'vantage_offline');
    expect(offline.map((e) => [e.country, e.summary.split(':')[0]])).toEqual([[null, 'vantage cfg-vantage offline']]);
    expect(err).toEqual([`${path}: the results do not name their vantage (recorded by an older version): events credited to the config's vantage "cfg-vantage"`]);
  });

  it('refuses results of two vantages, naming both, and exits 1 without events', async () => {
    const mixed = [...results({ id: 'kz-almaty', country: 'KZ' }).slice(0, 12), ...results({ id: 'de-fra', country: 'DE' }).slice(12)];
    const { code, events, err, path } = await replayLines(mixed);
    expect(code).toBe(1);
    expect(events).toEqual([]);
    expect(err).toEqual([`${path}: the results name 2 vantages ("kz-almaty" (KZ), "de-fra" (DE)): replay one vantage's results at a time`]);
  });
});
