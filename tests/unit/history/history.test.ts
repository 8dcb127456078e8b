import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { aggregate, keyId, parseKeyId, type TargetSample } from '../../../src/history/aggregate.js';
import { History, MINUTE_MS, type MinuteRecord } from '../../../src/history/history.js';
import { HistoryFile, decodeMinute, encodeMinute } from '../../../src/history/history-file.js';

const T0 = Date.UTC(2019, 5, 9, 5, 0); // 05:00 UTC, election day
const KZ = { country: 'KZ', asn: null, category: null, path: '' };

function target(over: Partial<TargetSample> = {}): TargetSample {
  return { country: 'KZ', asn: 9198, category: 'news', control: false, state: 'up', latency_ratio: 1, ...over };
}

describe('aggregate', () => {
  it('sums targets into country, ASN and category lines, leaving out controls, dead and unjudged ones', () => {
    const lines = aggregate([
      target({ latency_ratio: 1 }),
      target({ state: 'down', latency_ratio: null }),
      target({ category: 'streaming', state: 'suspect', latency_ratio: 3 }),
      target({ asn: null, state: 'up', latency_ratio: 2 }),
      target({ control: true, country: 'ZZ' }),
      target({ state: 'dead' }),
      target({ state: 'unknown' }),
      target({ path: 'isp-a' }),
    ]);
    const by = new Map(lines.map((l) => [keyId(l.key), l]));
    expect(by.get('|KZ||')).toEqual({ key: KZ, targets: 4, up: 3, latency_ratio: 2 });
    expect(by.get('|KZ|9198|')).toMatchObject({ targets: 3, up: 2, latency_ratio: 2 });
    expect(by.get('|KZ||news')).toMatchObject({ targets: 3, up: 2, latency_ratio: 1.5 });
    expect(by.get('|KZ||streaming')).toMatchObject({ targets: 1, up: 1, latency_ratio: 3 });
    expect(by.get('isp-a|KZ||')).toMatchObject({ targets: 1, up: 1 });
    expect([...by.keys()].some((k) => k.includes('ZZ'))).toBe(false);
    expect(lines).toHaveLength(7);
  });

  it('key ids round-trip', () => {
    for (const k of [KZ, { country: 'KZ', asn: 9198, category: null, path: 'isp-a' }, { country: 'KZ', asn: null, category: 'social', path: '' }]) {
      expect(parseKeyId(keyId(k))).toEqual(k);
    }
    expect(parseKeyId('a|b')).toBeNull();
    expect(parseKeyId('|KZ|x|')).toBeNull();
  });
});

describe('History', () => {
  it('aligns points on UTC minutes and keeps the last evaluation of a minute', () => {
    const h = new History();
    h.record(T0 + 5_000, [{ key: KZ, targets: 10, up: 10, latency_ratio: 1 }]);
    h.record(T0 + 55_000, [{ key: KZ, targets: 10, up: 4, latency_ratio: 2.345 }]);
    h.record(T0 + MINUTE_MS + 1, [{ key: KZ, targets: 10, up: 1, latency_ratio: null }]);
    const [line] = h.query({ from: T0 - 5 * MINUTE_MS, to: T0 + 10 * MINUTE_MS });
    expect(line?.key).toEqual(KZ);
    // Nothing before the first record nor after the newest minute is reported as a point.
    expect(line?.points).toEqual([
      { t: T0, targets: 10, up: 4, reachability: 0.4, latency_ratio: 2.35 },
      { t: T0 + MINUTE_MS, targets: 10, up: 1, reachability: 0.1, latency_ratio: null },
    ]);
  });

  it('answers every minute of a gap with no targets and null ratios', () => {
    const h = new History();
    h.record(T0, [{ key: KZ, targets: 3, up: 3, latency_ratio: 1 }]);
    h.record(T0 + 3 * MINUTE_MS, [{ key: KZ, targets: 3, up: 0, latency_ratio: null }]);
    const points = h.query({ from: T0, to: T0 + 4 * MINUTE_MS })[0]?.points ?? [];
    expect(points.map((p) => [p.targets, p.reachability])).toEqual([
      [3, 1],
      [0, null],
      [0, null],
      [3, 0],
    ]);
  });

  it('empties a line for a minute whose later evaluation no longer has it', () => {
    const h = new History();
    h.record(T0, [{ key: KZ, targets: 3, up: 3, latency_ratio: 1 }]);
    h.record(T0 + 10_000, []);
    expect(h.query({ from: T0, to: T0 + MINUTE_MS })).toEqual([]);
  });

  it('holds a bounded window: minutes older than the ring are gone, and a long gap clears it', () => {
    const h = new History({ minutes: 60 });
    for (let m = 0; m < 150; m++) h.record(T0 + m * MINUTE_MS, [{ key: KZ, targets: 2, up: m % 3 === 0 ? 2 : 1, latency_ratio: null }]);
    const points = h.query({ from: 0, to: T0 + 1000 * MINUTE_MS })[0]?.points ?? [];
    expect(points).toHaveLength(60);
    expect(points[0]?.t).toBe(T0 + 90 * MINUTE_MS);
    expect(points.at(-1)?.t).toBe(T0 + 149 * MINUTE_MS);
    expect(points.every((p, i) => p.up === ((90 + i) % 3 === 0 ? 2 : 1))).toBe(true);
    // A day later: every slot of the old window has been cleared, not read back as new data.
    h.record(T0 + 149 * MINUTE_MS + 24 * 60 * MINUTE_MS, []);
    expect(h.query({ from: 0, to: Infinity })).toEqual([]);
  });

  it('caps the number of lines and counts the ones refused', () => {
    const h = new History({ maxLines: 2 });
    const lines = ['KZ', 'UZ', 'TM', 'TM'].map((c) => ({ key: { ...KZ, country: c }, targets: 1, up: 1, latency_ratio: null }));
    h.record(T0, lines);
    h.record(T0 + 1000, lines);
    expect(h.size).toBe(2);
    expect(h.dropped).toBe(1);
  });

  it('filters by country, ASN, category and path', () => {
    const h = new History();
    h.record(
      T0,
      aggregate([target(), target({ asn: 21299, category: 'social' }), target({ country: 'UZ', asn: 8193 }), target({ path: 'isp-a' })]),
    );
    const q = { from: T0, to: T0 + MINUTE_MS };
    expect(h.query({ ...q, country: 'KZ' }).map((l) => keyId(l.key))).toEqual(['|KZ||', '|KZ|9198|', '|KZ|21299|', '|KZ||news', '|KZ||social', 'isp-a|KZ||', 'isp-a|KZ|9198|', 'isp-a|KZ||news']);
    expect(h.query({ ...q, asn: 8193 }).map((l) => keyId(l.key))).toEqual(['|UZ|8193|']);
    expect(h.query({ ...q, category: 'social' }).map((l) => keyId(l.key))).toEqual(['|KZ||social']);
    expect(h.query({ ...q, country: 'KZ', path: '' })).toHaveLength(5);
  });

  it('ignores an evaluation from before its newest minute (a clock stepped back)', () => {
    const h = new History();
    h.record(T0 + MINUTE_MS, [{ key: KZ, targets: 2, up: 2, latency_ratio: null }]);
    h.record(T0, [{ key: KZ, targets: 2, up: 0, latency_ratio: null }]);
    expect(h.query({ from: T0, to: T0 + 2 * MINUTE_MS })[0]?.points).toEqual([{ t: T0 + MINUTE_MS, targets: 2, up: 2, reachability: 1, latency_ratio: null }]);
  });

  it('hands each finished minute to onMinute once, with its last evaluation', () => {
    const seen: MinuteRecord[] = [];
    const h = new History({ onMinute: (r) => seen.push(r) });
    h.record(T0, [{ key: KZ, targets: 2, up: 2, latency_ratio: null }]);
    h.record(T0 + 30_000, [{ key: KZ, targets: 2, up: 1, latency_ratio: null }]);
    expect(seen).toEqual([]);
    h.record(T0 + MINUTE_MS, []);
    expect(seen).toEqual([{ t: T0, lines: [{ key: KZ, targets: 2, up: 1, latency_ratio: null }] }]);
    expect(h.unfinished()).toEqual({ t: T0 + MINUTE_MS, lines: [] });
  });
});

describe('HistoryFile', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps the history across a restart, skipping a torn line, and deletes days past the window', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookout-history-'));
    const log = silentLogger();
    const first = new History({ minutes: 3 * 24 * 60 });
    const file = await HistoryFile.open(dir, first, log, T0);
    const stored = { write: (r: MinuteRecord) => file.append(r) };
    const h = new History({ minutes: first.minutes, onMinute: stored.write });
    for (let m = 0; m <= 5; m++) h.record(T0 + m * MINUTE_MS, [{ key: KZ, targets: 4, up: m < 3 ? 4 : 0, latency_ratio: m < 3 ? 1.5 : null }]);
    await file.close();
    const day = join(dir, 'history', '2019-06-09.jsonl');
    await appendFile(day, '{"t":1560056760000,"l":[["|KZ||",4,');
    // A day file far older than the window.
    await writeFile(join(dir, 'history', '2019-05-01.jsonl'), encodeMinute({ t: Date.UTC(2019, 4, 1), lines: [{ key: KZ, targets: 1, up: 1, latency_ratio: null }] }));

    const again = new History({ minutes: first.minutes });
    await HistoryFile.open(dir, again, log, T0 + 10 * MINUTE_MS);
    const points = again.query({ from: T0, to: T0 + 10 * MINUTE_MS })[0]?.points ?? [];
    // Minutes 0..4 were finished and written; minute 5 was still being recorded.
    expect(points.map((p) => p.up)).toEqual([4, 4, 4, 0, 0]);
    expect(points[0]?.latency_ratio).toBe(1.5);
    expect(await readdir(join(dir, 'history'))).toEqual(['2019-06-09.jsonl']);
  });

  it('decodes only well-formed minutes', () => {
    const ok = encodeMinute({ t: T0, lines: [{ key: KZ, targets: 2, up: 1, latency_ratio: 1.234 }] });
    expect(decodeMinute(ok)).toEqual({ t: T0, lines: [{ key: KZ, targets: 2, up: 1, latency_ratio: 1.23 }] });
    for (const bad of ['', 'null', '{"t":1,"l":[]}', `{"t":${T0},"l":[["|KZ||",-1,0,null]]}`, `{"t":${T0},"l":[["KZ",1,0,null]]}`, `{"t":${T0},"l":{}}`]) {
      expect(decodeMinute(bad)).toBeNull();
    }
  });
});
