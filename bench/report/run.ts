/**
 * How long an event report takes from recorded data (issue 24: goal < 2 s). Build and run from
 * the repository root:
 *
 *   npm run bench:report [-- --countries N --days N]
 *
 * Writes a storage dir as the daemon leaves it (events.jsonl and 1-minute history day files)
 * for N countries (default 60, each with its own line, 4 ASNs and 3 categories: 480 lines, the
 * size of a 1,000-target catalog) over N days (default 7, the history's length), then times,
 * for a 1-hour and a 24-hour shutdown of KZ:
 * - `lookout report ID` as an operator runs it (the built CLI, a process of its own, cold);
 * - in process, each stage: reading the events, reading the history for the window, CSV and
 *   Markdown, the SVG and the PNG (a fresh renderer: worker start and library load included),
 *   and the same SVG again from a warm renderer with another key (the daemon's case).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, appendFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChartRenderer } from '../../src/chart/renderer.js';
import { loadConfig } from '../../src/config/load.js';
import type { DisruptionEvent } from '../../src/detect/events.js';
import { encodeMinute } from '../../src/history/history-file.js';
import type { LineSample } from '../../src/history/aggregate.js';
import { silentLogger } from '../../src/log.js';
import { buildReport, reportBody, reportContextOf } from '../../src/report/report.js';
import { eventQueries, eventWindow } from '../../src/report/report-data.js';
import { openStoredHistory } from '../../src/report/stored-history.js';
import { readStoredEvents } from '../../src/store/stored-events.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: expected a positive integer`);
  return v;
}

/** Two-letter codes: KZ first, then AA, AB, ... (only the history's keys, never looked up). */
function countries(n: number): string[] {
  const out = ['KZ'];
  for (let i = 0; out.length < n; i++) {
    const code = String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26));
    if (code !== 'KZ') out.push(code);
  }
  return out;
}

function writeStorage(dir: string, codes: string[], days: number, now: number, events: DisruptionEvent[]): { minutes: number; bytes: number } {
  const historyDir = join(dir, 'history');
  mkdirSync(historyDir, { recursive: true });
  const cuts = events.map((e) => [Date.parse(e.started_at), Date.parse(e.ended_at as string)] as const);
  const start = Math.floor((now - days * 24 * HOUR) / MINUTE) * MINUTE;
  let minutes = 0;
  let buffer = '';
  let day = '';
  const flush = (): void => {
    if (buffer !== '') appendFileSync(join(historyDir, `${day}.jsonl`), buffer);
    buffer = '';
  };
  for (let t = start; t < now; t += MINUTE) {
    const d = new Date(t).toISOString().slice(0, 10);
    if (d !== day) {
      flush();
      day = d;
    }
    const dark = cuts.some(([a, b]) => t >= a && t < b);
    const lines: LineSample[] = [];
    for (const c of codes) {
      const down = c === 'KZ' && dark;
      const wobble = (t / MINUTE) % 17 === 0 ? 1 : 0;
      lines.push({ key: { path: '', country: c, asn: null, category: null }, targets: 16, up: down ? 1 : 16 - wobble, latency_ratio: down ? null : 1 + wobble / 10 });
      for (let a = 0; a < 4; a++) lines.push({ key: { path: '', country: c, asn: 1000 + a, category: null }, targets: 4, up: down ? 0 : 4, latency_ratio: down ? null : 1.1 });
      for (const cat of ['news', 'government', 'social']) lines.push({ key: { path: '', country: c, asn: null, category: cat }, targets: 5, up: down ? 0 : 5 - wobble, latency_ratio: down ? null : 1.2 });
    }
    buffer += encodeMinute({ t, lines });
    minutes++;
    if (buffer.length > 8 * 1024 * 1024) flush();
  }
  flush();
  writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const bytes = readdirSync(historyDir).reduce((sum, f) => sum + statSync(join(historyDir, f)).size, 0);
  return { minutes, bytes };
}

function shutdown(start: number, hours: number): DisruptionEvent {
  return {
    id: `shutdown:KZ:-:${start}`,
    kind: 'shutdown',
    country: 'KZ',
    asn: null,
    category: null,
    mechanism: 'blackhole',
    severity: 'critical',
    started_at: new Date(start).toISOString(),
    ended_at: new Date(start + hours * HOUR).toISOString(),
    summary: `KZ: 15 of 16 targets unreachable (94%), blackhole`,
    evidence: { eligible: 16, down: 15, ratio: 0.94, reasons: { tcp_timeout: 15 } },
  };
}

async function time<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

const ms = (v: number): string => `${v.toFixed(0)} ms`;

async function main(): Promise<void> {
  const root = resolve(import.meta.dirname, '../../..');
  const cli = join(root, 'dist/main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  const codes = countries(arg('--countries', 60));
  const days = arg('--days', 7);
  const now = Math.floor(Date.now() / MINUTE) * MINUTE;
  const events = [shutdown(now - 2 * 24 * HOUR, 1), shutdown(now - 5 * 24 * HOUR, 24)];
  const dir = mkdtempSync(join(tmpdir(), 'lookout-bench-report-'));
  try {
    const [written, genMs] = await time(() => writeStorage(join(dir, 'data'), codes, days, now, events));
    writeFileSync(join(dir, 'lookout.yaml'), 'vantage: { id: bench }\nstorage: { dir: ./data }\ntargets: []\n');
    console.log(`recorded data: ${codes.length} countries, ${codes.length * 8} lines, ${written.minutes} minutes, history ${(written.bytes / 1024 / 1024).toFixed(1)} MiB (written in ${ms(genMs)})`);
    const config = await loadConfig(join(dir, 'lookout.yaml'));
    for (const event of events) {
      const hours = (Date.parse(event.ended_at as string) - Date.parse(event.started_at)) / HOUR;
      const out = join(dir, 'out');
      const t0 = performance.now();
      execFileSync(process.execPath, [cli, 'report', event.id, '--config', join(dir, 'lookout.yaml'), '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
      const cliMs = performance.now() - t0;
      const [stored, readEventsMs] = await time(() => readStoredEvents(config.storageDir, silentLogger()));
      const found = stored.find((e) => e.id === event.id) as DisruptionEvent;
      const [history, readHistoryMs] = await time(() => openStoredHistory(config, eventWindow(found, now), eventQueries(found)));
      const [report, buildMs] = await time(() => buildReport(found, history, reportContextOf(config), now));
      const [, textMs] = await time(() => report.csv().length + report.markdown().length);
      const renderer = new ChartRenderer();
      const [svg, svgMs] = await time(() => reportBody(report, 'svg', renderer));
      const [png, pngMs] = await time(() => reportBody(report, 'png', renderer));
      const [, warmMs] = await time(() => renderer.render({ key: 'warm', format: 'svg', spec: report.spec }));
      await renderer.close();
      const points = report.lines.reduce((n, l) => n + l.points.length, 0);
      console.log(`\n${hours}-hour shutdown, window ${((report.window.to - report.window.from) / HOUR).toFixed(1)} h, ${report.lines.length} lines, ${points} points`);
      console.log(`  lookout report (CLI, own process, cold): ${ms(cliMs)}   goal < 2000 ms: ${cliMs < 2000 ? 'met' : 'NOT met'}`);
      console.log(`  in process: events ${ms(readEventsMs)}, history ${ms(readHistoryMs)}, lines ${ms(buildMs)}, CSV+MD ${ms(textMs)}, SVG cold ${ms(svgMs)} (${(svg.length / 1024).toFixed(0)} KiB), PNG ${ms(pngMs)} (${(png.length / 1024).toFixed(0)} KiB), SVG warm ${ms(warmMs)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
