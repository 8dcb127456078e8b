import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ProbeResultSchema, type RecordedResult } from './result-schema.js';

/** A line of a results file that is not a valid ProbeResult. Yielded, never thrown. */
export class ResultLineError extends Error {
  override readonly name = 'ResultLineError';
  constructor(
    /** 1-based line number in the file. */
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Streams a results JSONL file (as written by ResultRecorder) line by line, in file order. Each
 * line yields either a validated result (with its vantage when the line names one) or a ResultLineError with its line number; blank
 * lines are skipped. Only a file that cannot be opened or read makes the iteration throw.
 */
export async function* readResults(path: string): AsyncIterable<RecordedResult | ResultLineError> {
  // Opened up front so a missing or unreadable file rejects with its own error.
  const handle = await open(path, 'r');
  const input = handle.createReadStream({ encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text.trim() === '') continue;
      yield parseResultLine(text, n);
    }
  } finally {
    // Also reached when the consumer stops early.
    lines.close();
    input.destroy();
    await handle.close();
  }
}

/** Parses one line; a ResultLineError names what is wrong. */
export function parseResultLine(text: string, line: number): RecordedResult | ResultLineError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return new ResultLineError(line, `not JSON: ${(err as Error).message}`);
  }
  const r = ProbeResultSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return new ResultLineError(line, `${where}${issue?.message ?? 'invalid result'}`);
}
