/**
 * `lookout replay --config FILE RESULTS.jsonl`: recorded probe results through the same
 * detector the daemon runs, seen from the vantage that recorded them, the events printed as JSON lines. Deterministic: the same files
 * give byte-identical output.
 */
import { ConfigError, loadConfig } from '../config/load.js';
import { replay } from '../detect/replay.js';
import type { DisruptionEvent } from '../detect/events.js';
import type { VantageInfo } from '../detect/options.js';
import type { ProbeResult } from '../probers/types.js';
import type { RecordedResult } from '../store/result-schema.js';
import { readResults, ResultLineError } from '../store/results-reader.js';
import { GeoCheck } from '../geo/geo-check.js';
import { openGeo } from '../geo/geo-config.js';

export interface ReplayIo {
  /** One event, as a JSON line (without the newline). */
  out(line: string): void;
  /** One problem, as a line for stderr. */
  err(line: string): void;
}

/** Says how many results name a target the config does not have (the detector drops them), and which. */
function reportDropped(results: readonly ProbeResult[], known: ReadonlyMap<string, unknown>, resultsPath: string, io: ReplayIo): void {
  const dropped = new Map<string, number>();
  for (const r of results) if (!known.has(r.target)) dropped.set(r.target, (dropped.get(r.target) ?? 0) + 1);
  if (dropped.size === 0) return;
  const count = [...dropped.values()].reduce((a, b) => a + b, 0);
  const names = [...dropped.keys()].sort();
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');
  io.err(`${resultsPath}: ${count} result${count === 1 ? '' : 's'} dropped: ${names.length} target${names.length === 1 ? '' : 's'} not in the config (${shown})`);
}

/** A vantage as the messages name it: `"kz-almaty" (KZ, AS9198)`. */
function describeVantage(v: VantageInfo): string {
  const where = [v.country, v.asn === undefined ? undefined : `AS${v.asn}`].filter((x) => x !== undefined);
  return `"${v.id}"${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
}

/**
 * The vantage the events are credited to: the one the results were recorded at (lines written
 * before results carried it count as the same one), else the config's, which is said on stderr,
 * as is a recorded vantage that is not the config's. Null, with the reason on stderr, when the
 * results name more than one vantage: one detector cannot judge them together.
 */
function replayVantage(results: readonly RecordedResult[], configured: VantageInfo, resultsPath: string, io: ReplayIo): VantageInfo | null {
  const recorded = new Map<string, VantageInfo>();
  for (const r of results) if (r.vantage !== undefined) recorded.set(describeVantage(r.vantage), r.vantage);
  const [first, ...others] = recorded.values();
  if (others.length > 0) {
    io.err(`${resultsPath}: the results name ${recorded.size} vantages (${[...recorded.keys()].join(', ')}): replay one vantage's results at a time`);
    return null;
  }
  if (first === undefined) {
    if (results.length > 0) io.err(`${resultsPath}: the results do not name their vantage (recorded by an older version): events credited to the config's vantage ${describeVantage(configured)}`);
    return configured;
  }
  const named = describeVantage(first);
  if (named !== describeVantage(configured)) io.err(`${resultsPath}: events credited to vantage ${named}, where the results were recorded, not to the config's ${describeVantage(configured)}`);
  return first;
}

/**
 * Runs the replay; resolves with the exit code: 0 when every line was read, 1 on an invalid
 * config, an unreadable file or any bad line (the good lines are still replayed and printed),
 * and 1 without replaying when the results name more than one vantage.
 */
export async function replayCommand(configPath: string, resultsPath: string, io: ReplayIo): Promise<number> {
  let config;
  let geo: GeoCheck;
  try {
    config = await loadConfig(configPath);
    // The daemon's location check, on the databases the config names (the same file gives
    // the same verdicts, so the output stays deterministic).
    geo = new GeoCheck((await openGeo(config)).db);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(p);
    return 1;
  }
  const results: RecordedResult[] = [];
  let bad = 0;
  try {
    for await (const item of readResults(resultsPath)) {
      if (item instanceof ResultLineError) {
        bad++;
        io.err(`${resultsPath}:${item.line}: ${item.message}`);
      } else {
        results.push(item);
      }
    }
  } catch (err) {
    io.err(`${resultsPath}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  // Recorded in completion order; the detector wants observation order (start + duration).
  // Array.prototype.sort is stable, so equal times keep file order and the output stays stable.
  const observed = (r: ProbeResult): number => r.at + (r.phases.total ?? 0) * 1000;
  results.sort((a, b) => observed(a) - observed(b));
  const byId = new Map(config.targets.map((t) => [t.id, t]));
  reportDropped(results, byId, resultsPath, io);
  const vantage = replayVantage(results, config.vantage, resultsPath, io);
  if (vantage === null) return 1;
  const changes = replay(results, { detection: config.detection, vantage, targets: config.targets, interval: config.schedule.interval }, undefined, (result) => {
    const target = byId.get(result.target);
    const moved = target === undefined ? null : geo.observe(result, target);
    return moved === null ? null : { target: moved.target, mismatch: moved.verdict.mismatch !== null };
  });
  // Each event once, in the order it opened, in its final state.
  const events = new Map<string, DisruptionEvent>();
  for (const { event } of changes) events.set(event.id, event);
  for (const event of events.values()) io.out(JSON.stringify(event));
  if (bad > 0) io.err(`${resultsPath}: ${bad} bad line${bad === 1 ? '' : 's'} skipped`);
  return bad > 0 ? 1 : 0;
}
