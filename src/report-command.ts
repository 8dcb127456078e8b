/**
 * `lookout report EVENT_ID [--config FILE] [--out DIR]`: an event's report from what the daemon
 * stored (events.jsonl and the 1-minute history under storage.dir), offline: the chart (SVG and
 * PNG), the CSV behind it and the Markdown summary, written to DIR/<event id as a file name>/.
 */
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import type { SeriesReader } from './history/types.js';
import type { Logger } from './log.js';
import { ChartRenderer } from './chart/renderer.js';
import { reportSourceOf, writeReport } from './report/report.js';
import { eventWindow } from './report/report-data.js';
import { readStoredEvents } from './store/stored-events.js';

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
  /** Opens the stored 1-minute history of the config's storage dir for [from, to), read-only. */
  openHistory(config: Config, range: { from: number; to: number }): Promise<SeriesReader>;
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
  const renderer = new ChartRenderer();
  try {
    const events = await readStoredEvents(config.storageDir, io.log);
    const event = events.find((e) => e.id === args.id);
    if (event === undefined) {
      io.err(`lookout report: no event ${JSON.stringify(args.id)} in ${config.storageDir} (${events.length} stored; GET /api/v1/events lists them)`);
      return 1;
    }
    const now = io.now();
    const history = await io.openHistory(config, eventWindow(event, now));
    const dir = await writeReport(event, history, reportSourceOf(config), args.out, renderer, now);
    io.out(dir);
    return 0;
  } catch (err) {
    io.err(`lookout report: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await renderer.close();
  }
}
