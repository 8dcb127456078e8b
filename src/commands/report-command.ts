/**
 * `lookout report EVENT_ID [--config FILE] [--out DIR]`: an event's report from what the daemon
 * stored (events.jsonl and the 1-minute history under storage.dir), offline: the chart (SVG and
 * PNG), the CSV behind it and the Markdown summary, written to DIR/<event id as a file name>/.
 */
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { DisruptionEvent } from '../detect/events.js';
import type { SeriesQuery, SeriesReader } from '../history/types.js';
import type { Logger } from '../log.js';
import { ChartRenderer } from '../chart/renderer.js';
import { reportContextOf, writeReport } from '../report/report.js';
import { eventQueries, eventWindow } from '../report/report-data.js';
import { readStoredEvents } from '../store/stored-events.js';

export interface ReportArgs {
  config: string;
  id: string;
  out: string;
}

export interface ReportIo {
  out(line: string): void;
  err(line: string): void;
  log: Logger;
  now(): number;
  /** Opens the stored 1-minute history of the config's storage dir for [from, to) (only the lines `only` asks for), read-only. */
  openHistory: (config: Config, range: { from: number; to: number }, only: readonly Omit<SeriesQuery, 'from' | 'to'>[]) => Promise<SeriesReader>;
}

/** Resolves with the exit code: 0 written, 1 invalid config, unknown event or a failure (said on stderr). */
export async function reportCommand(args: ReportArgs, io: ReportIo): Promise<number> {
  let config: Config;
  try {
    config = await loadConfig(args.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(p);
    return 1;
  }
  try {
    const events = await readStoredEvents(config.storageDir, io.log);
    const event = events.find((e) => e.id === args.id);
    if (event === undefined) {
      io.err(`lookout report: no event ${JSON.stringify(args.id)} in ${config.storageDir} (${events.length} stored; GET /api/v1/events lists them)`);
      return 1;
    }
    for (const dir of await writeStoredReports(config, [event], args.out, io.now(), io.openHistory)) io.out(dir);
    return 0;
  } catch (err) {
    io.err(`lookout report: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/**
 * Writes the report of each of `events` (stored under config.storageDir) into
 * `outDir`/<event id as a file name>/; resolves with those folders. One renderer for all.
 */
export async function writeStoredReports(config: Config, events: readonly DisruptionEvent[], outDir: string, now: number, openHistory: ReportIo['openHistory']): Promise<string[]> {
  const renderer = new ChartRenderer();
  // The worker loads its libraries while the history is read.
  renderer.warm();
  try {
    const dirs: string[] = [];
    for (const event of events) {
      const history = await openHistory(config, eventWindow(event, now), eventQueries(event));
      dirs.push(await writeReport(event, history, reportContextOf(config), outDir, renderer, now));
    }
    return dirs;
  } finally {
    await renderer.close();
  }
}
