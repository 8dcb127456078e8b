/**
 * An event report: the chart of the event's window (the same spec as the status page's
 * charts), the CSV of the points behind it and the Markdown summary. build() is pure and cheap
 * (it reads the history and formats text); the chart itself is drawn by the ChartRenderer, off
 * the daemon's event loop.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Config } from '../config/schema.js';
import type { DisruptionEvent } from '../detect/events.js';
import type { SeriesLine, SeriesReader } from '../history/types.js';
import { buildChartSpec } from '../chart/spec.js';
import type { ChartFormat, ChartRenderer } from '../chart/renderer.js';
import { reportCsv } from './csv.js';
import { eventLines, eventWindow, type EventWindow } from './report-data.js';
import { reportMarkdown, reportTitle, type ReportContext } from './markdown.js';
import { countryZone, type CountryZone } from './time-zone.js';

export const REPORT_FORMATS = ['svg', 'png', 'csv', 'md'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ReportFormat, string> = {
  svg: 'image/svg+xml',
  png: 'image/png',
  csv: 'text/csv; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
};

/** The report's files, named as the API names them (report.svg ...), so its links work in both. */
export const REPORT_FILES: Record<ReportFormat, string> = { svg: 'report.svg', png: 'report.png', csv: 'report.csv', md: 'report.md' };

export interface EventReport {
  event: DisruptionEvent;
  window: EventWindow;
  zone: CountryZone | null;
  lines: SeriesLine[];
  /** Identifies this version of the report: changes while the event is open, minute by minute. */
  key: string;
  spec: () => TopLevelSpec;
  csv: () => string;
  markdown: () => string;
}

/** Everything but the drawing, for `event` as seen at `now`. */
export function buildReport(event: DisruptionEvent, reader: SeriesReader, context: ReportContext, now: number): EventReport {
  const window = eventWindow(event, now);
  const zone = event.country === null ? null : countryZone(event.country, window.start);
  const lines = eventLines(reader, event, window);
  const key = `report:${event.id}:${event.ended_at ?? 'open'}:${window.to}`;
  return {
    event,
    window,
    zone,
    lines,
    key,
    spec: () =>
      buildChartSpec({
        title: reportTitle(event),
        subtitle: `${event.summary} (vantage ${context.vantage.id}${event.path === undefined ? '' : `, path ${event.path}`})`,
        from: window.from,
        to: window.to,
        lines,
        country: event.country,
        bands: [{ from: window.start, to: window.end, label: `${event.kind}${event.mechanism === null ? '' : ` (${event.mechanism})`}` }],
        ...(zone === null ? {} : { zone: { name: zone.name, offsetMs: zone.offsetMs } }),
      }),
    csv: () => reportCsv(lines, window, zone, event.country),
    markdown: () => reportMarkdown(event, window, zone, context, { png: REPORT_FILES.png, csv: REPORT_FILES.csv }, now),
  };
}

/** One format of the report as bytes; the chart formats go through the renderer. */
export async function reportBody(report: EventReport, format: ReportFormat, renderer: ChartRenderer): Promise<Buffer> {
  if (format === 'csv') return Buffer.from(report.csv(), 'utf8');
  if (format === 'md') return Buffer.from(report.markdown(), 'utf8');
  const chart: ChartFormat = format;
  return renderer.render({ key: report.key, format: chart, spec: report.spec });
}

/** Who measured, from the config: for the report's "seen from" and method lines. */
export function reportContextOf(config: Pick<Config, 'vantage' | 'schedule' | 'detection'>): ReportContext {
  return {
    vantage: { id: config.vantage.id, country: config.vantage.country, asn: config.vantage.asn },
    intervalMs: config.schedule.interval,
    downAfter: config.detection.down_after,
    openAfter: config.detection.open_after,
    closeAfter: config.detection.close_after,
    evaluateEveryMs: config.detection.evaluate_every,
  };
}

/**
 * Writes the four files of `event`'s report into `dir`/<event id as a file name>/ (created);
 * resolves with that folder. The Markdown's links point at the files beside it.
 */
export async function writeReport(event: DisruptionEvent, reader: SeriesReader, context: ReportContext, outDir: string, renderer: ChartRenderer, now: number): Promise<string> {
  const report = buildReport(event, reader, context, now);
  const dir = join(outDir, fileSlug(event.id));
  await mkdir(dir, { recursive: true });
  for (const format of REPORT_FORMATS) await writeFile(join(dir, REPORT_FILES[format]), await reportBody(report, format, renderer));
  return dir;
}

/** A file name made from an event id: letters, digits, ".", "_" and "-" only. */
export function fileSlug(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_');
}
