import { describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import { CSV_HEADER, reportCsv } from '../../../src/report/csv.js';
import { duration, md, reportMarkdown, reportTitle, type ReportContext } from '../../../src/report/markdown.js';
import { buildReport } from '../../../src/report/report.js';
import { eventLines, eventWindow, MAX_LINES_PER_KIND } from '../../../src/report/report-data.js';
import { countryZone, zoneOffset } from '../../../src/report/time-zone.js';
import { KZ_CUT, kzShutdown, KZ_FROM, KZ_TO, kzLines, makeLine, MemorySeriesReader } from '../../fixtures/series-reader.js';

const MIN = 60_000;
const shutdown: DisruptionEvent = kzShutdown({ eligible: 10, down: 9, ratio: 0.9, reasons: { tcp_timeout: 6, dns_timeout: 3 }, asns: [9198, 21299], targets: ['kz-egov', 'kz|pipe*star'] });
const source: ReportContext = { vantage: { id: 'fra-1', country: 'DE', asn: 3320 }, intervalMs: 60_000, downAfter: 2, openAfter: 2, closeAfter: 2, evaluateEveryMs: 5_000 };

describe('eventWindow', () => {
  it('adds the event length on both sides, at least 30 minutes, at most 6 hours, in whole minutes', () => {
    expect(eventWindow(shutdown, KZ_TO)).toEqual({ start: KZ_CUT.from, end: KZ_CUT.to, open: false, from: KZ_CUT.from - 60 * MIN, to: KZ_CUT.to + 60 * MIN });
    const short = { ...shutdown, ended_at: new Date(KZ_CUT.from + 90_000).toISOString() };
    expect(eventWindow(short, KZ_TO)).toMatchObject({ from: KZ_CUT.from - 30 * MIN, to: KZ_CUT.from + 90_000 + 30 * MIN + 30_000 });
    const long = { ...shutdown, ended_at: new Date(KZ_CUT.from + 3 * 86_400_000).toISOString() };
    expect(eventWindow(long, KZ_CUT.from + 10 * 86_400_000)).toMatchObject({ from: KZ_CUT.from - 6 * 60 * MIN });
  });

  it('ends an open event and a recent one at now', () => {
    const now = KZ_CUT.from + 20 * MIN + 5_000;
    expect(eventWindow({ ...shutdown, ended_at: null }, now)).toEqual({ start: KZ_CUT.from, end: now, open: true, from: KZ_CUT.from - 30 * MIN, to: KZ_CUT.from + 21 * MIN });
    expect(eventWindow(shutdown, KZ_CUT.to + 5 * MIN)).toMatchObject({ to: KZ_CUT.to + 6 * MIN });
  });
});

describe('eventLines', () => {
  it("reads the event's country on its path: its own line, its ASNs and its categories", () => {
    const reader = new MemorySeriesReader(kzLines());
    const lines = eventLines(reader, shutdown, eventWindow(shutdown, KZ_TO));
    expect(reader.queries).toEqual([{ country: 'KZ', path: '', from: KZ_CUT.from - 60 * MIN, to: KZ_CUT.to + 60 * MIN }]);
    expect(lines.map((l) => [l.key.asn, l.key.category])).toEqual([[null, null], [9198, null], [21299, null], [null, 'government'], [null, 'streaming']]);
  });

  it('draws the involved ASNs first, then the largest, at most MAX_LINES_PER_KIND', () => {
    const many = Array.from({ length: 12 }, (_, i) => makeLine({ country: 'KZ', asn: 100 + i }, KZ_FROM, KZ_TO, i + 1, () => 1));
    const lines = eventLines(new MemorySeriesReader(many), { ...shutdown, evidence: { ...shutdown.evidence, asns: [100] } }, eventWindow(shutdown, KZ_TO));
    expect(lines.map((l) => l.key.asn)).toEqual([100, 111, 110, 109, 108, 107, 106, 105].slice(0, MAX_LINES_PER_KIND));
  });

  it('reads the event path; an event without a country shows every country', () => {
    const reader = new MemorySeriesReader([...kzLines(), makeLine({ country: 'KZ', path: 'isp-a' }, KZ_FROM, KZ_TO, 2, () => 2)]);
    expect(eventLines(reader, { ...shutdown, path: 'isp-a' }, eventWindow(shutdown, KZ_TO)).map((l) => l.key.path)).toEqual(['isp-a']);
    const offline = { ...shutdown, kind: 'vantage_offline' as const, country: null };
    expect(eventLines(reader, offline, eventWindow(offline, KZ_TO)).map((l) => l.key.country)).toEqual(['KZ', 'DE']);
  });
});

describe('countryZone', () => {
  it("uses the offset of the event's date, and the capital's zone for a country with several", () => {
    expect(countryZone('KZ', KZ_CUT.from)).toMatchObject({ name: 'Asia/Almaty', offsetMs: 6 * 3600_000 });
    expect(countryZone('KZ', KZ_CUT.from)?.note).toMatch(/Kazakhstan spans \d+ time zones; local times are Asia\/Almaty, the capital's/);
    expect(countryZone('US', Date.UTC(2020, 0, 15))).toMatchObject({ name: 'America/New_York', offsetMs: -5 * 3600_000 });
    expect(countryZone('US', Date.UTC(2020, 6, 15))).toMatchObject({ offsetMs: -4 * 3600_000 });
    expect(countryZone('IR', KZ_CUT.from)).toEqual({ name: 'Asia/Tehran', offsetMs: 4.5 * 3600_000, note: null });
    expect(countryZone('ZZ', KZ_CUT.from)).toBeNull();
    expect(zoneOffset('Not/AZone', 0)).toBeNull();
  });
});

describe('reportCsv', () => {
  it('has one row per line and minute, UTC and local time, gaps empty, the event marked', () => {
    const window = eventWindow(shutdown, KZ_TO);
    const lines = eventLines(new MemorySeriesReader(kzLines()), shutdown, window);
    const csv = reportCsv(lines, window, countryZone('KZ', window.start));
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe(CSV_HEADER.join(','));
    expect(rows).toHaveLength(1 + 5 * 180);
    expect(rows).toContain('2019-06-09T05:00,2019-06-09T11:00,AS9198,KZ,9198,,,6,0,0,,1');
    expect(rows).toContain('2019-06-09T04:59,2019-06-09T10:59,KZ,KZ,,,,10,9,0.9,1.1,0');
    expect(rows).toContain('2019-06-09T06:00,2019-06-09T12:00,KZ,KZ,,,,10,9,0.9,1.1,0');
  });

  it('quotes fields that need it and defuses formulas', () => {
    const line = makeLine({ country: 'KZ', category: '=cmd,"x"' }, KZ_FROM, KZ_FROM + MIN, 1, () => 1);
    expect(reportCsv([line], { from: KZ_FROM, to: KZ_TO, start: 0, end: 0 }, null).split('\r\n')[1]).toBe(`2019-06-09T00:00,,"'=cmd,""x""",KZ,,"'=cmd,""x""",,1,1,1,1,0`);
  });
});

describe('reportMarkdown', () => {
  it('says what, where, when in UTC and local time, how long, the mechanism, the evidence, who saw it and how', () => {
    const window = eventWindow(shutdown, KZ_TO);
    const text = reportMarkdown(shutdown, window, countryZone('KZ', window.start), source, { png: 'report.png', csv: 'report.csv' }, KZ_TO);
    expect(text.startsWith('# Shutdown in Kazakhstan \\(KZ\\)\n')).toBe(true);
    for (const part of [
      '![Shutdown in Kazakhstan \\(KZ\\): reachability and latency per minute, the event shaded](report.png)',
      '| Where | Kazakhstan (KZ); networks AS9198, AS21299 |',
      '| When | 2019-06-09 05:00 to 2019-06-09 06:00 UTC (2019-06-09 11:00 to 2019-06-09 12:00 Asia/Almaty time, UTC+06:00) |',
      '| How long | 1 h 00 min |',
      '| Mechanism | blackhole: traffic was dropped: connections and lookups timed out |',
      '| Evidence | 9 of 10 eligible targets down (90%) when last confirmed; failures by reason: tcp\\_timeout 6, dns\\_timeout 3 |',
      '| Targets down | kz-egov, kz\\|pipe\\*star and 7 more |',
      '| Seen from | vantage fra-1 (DE, AS3320), through the default route |',
      '## Method',
      'every 1 min',
      '[report.csv](report.csv)',
      "local times are Asia/Almaty, the capital's",
    ]) expect(text).toContain(part);
  });

  it('says an open event is still going, and names the path it was seen through', () => {
    const open = { ...shutdown, ended_at: null, path: 'isp-a' };
    const now = KZ_CUT.from + 125 * MIN;
    const text = reportMarkdown(open, eventWindow(open, now), null, source, { png: 'p.png', csv: 'c.csv' }, now);
    expect(text).toContain('| How long | 2 h 05 min so far (still going at 2019-06-09 07:05 UTC) |');
    expect(text).toContain('to now UTC |');
    expect(text).toContain('through source path isp-a');
  });

  it('titles each kind, and escapes text from config and the network', () => {
    expect(reportTitle({ ...shutdown, kind: 'partial_outage', asn: 9198 })).toBe('Network outage of AS9198 in Kazakhstan (KZ)');
    expect(reportTitle({ ...shutdown, kind: 'service_blocking', category: 'streaming' })).toBe('Blocking of streaming in Kazakhstan (KZ)');
    expect(reportTitle({ ...shutdown, kind: 'vantage_offline', country: null })).toBe('Vantage point offline at this vantage');
    expect(md('<img src=x>[a](b)\n# h')).toBe('\\<img src=x\\>\\[a\\]\\(b\\) \\# h');
    expect([duration(45_000), duration(58 * MIN), duration(3 * 86_400_000 + 4 * 3600_000)]).toEqual(['45 s', '58 min', '3 d 4 h']);
  });
});

describe('buildReport', () => {
  it('keys a closed event by its end, and an open one by the minute', () => {
    const reader = new MemorySeriesReader(kzLines());
    expect(buildReport(shutdown, reader, source, KZ_TO).key).toBe(buildReport(shutdown, reader, source, KZ_TO + 1000).key);
    const open = { ...shutdown, ended_at: null };
    expect(buildReport(open, reader, source, KZ_CUT.from + 10 * MIN).key).not.toBe(buildReport(open, reader, source, KZ_CUT.from + 11 * MIN).key);
  });
});

describe('eventLines of a blocking seen from inside', () => {
  it("adds the blocked category's lines abroad, labelled with their country", () => {
    const blocking = { ...shutdown, kind: 'service_blocking' as const, category: 'streaming', evidence: { ...shutdown.evidence, categories: ['streaming'] } };
    const reader = new MemorySeriesReader([...kzLines(), makeLine({ country: 'US', category: 'streaming' }, KZ_FROM, KZ_TO, 3, () => 0)]);
    const window = eventWindow(blocking, KZ_TO);
    const lines = eventLines(reader, blocking, window);
    expect(lines.map((l) => [l.key.country, l.key.category]).slice(-1)).toEqual([['US', 'streaming']]);
    expect(reportCsv(lines, window, null, 'KZ')).toContain(',streaming (US),US,,streaming,,3,0,0,,');
  });
});
