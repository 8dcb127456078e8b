/**
 * Loads a configuration: the main YAML file, the catalogs its globs name, validation with the
 * zod schema, catalog defaults, and the checks that span fields or files. Every problem in every
 * file is collected before anything is thrown, in a stable order (file order, then path).
 */
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { LineCounter, parseDocument } from 'yaml';
import { formatDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { comparePaths, formatPath, isRecord, issueProblems, targetId } from './format.js';
import type { IssuePath, Problem } from './format.js';
import { CatalogFile, ConfigFile, TargetInput } from './schema.js';
import type { Config, ResolvedTarget } from './schema.js';

export { ConfigError } from './errors.js';

type Schedule = Config['schedule'];
type Doc = Record<string, unknown>;

/** What a file hands down to the targets it defines. */
interface Defaults {
  country?: string;
  asn?: number;
  category?: string;
  control?: boolean;
  /** False when the file's own default country is invalid: a missing country is then not news. */
  countryKnown: boolean;
  /** How to fix a target without a country, for the message. */
  countryHint: string;
}

/** A parsed file that defines targets: the main config or a catalog. */
interface Source {
  readonly sink: FileProblems;
  readonly doc: Doc;
  /** Path relative to the config directory, as in ResolvedTarget.source. */
  readonly source: string;
  readonly defaults: Defaults;
}

/**
 * Reads, validates and resolves the configuration at `file`.
 * @throws ConfigError listing every problem found in the config file and all its catalogs.
 */
export async function loadConfig(file: string): Promise<Config> {
  const path = resolve(file);
  const dir = dirname(path);
  const log = new ProblemLog();

  const read = await readYamlMapping(file, path);
  if (!read.ok) throw new ConfigError(read.problems);
  const doc = read.doc;
  const mainSink = log.file(undefined, file, doc);
  const parsed = ConfigFile.safeParse(doc);
  if (!parsed.success) mainSink.addAll(issueProblems(parsed.error.issues));

  const schedule = ConfigFile.shape.schedule.safeParse(doc.schedule);
  if (schedule.success) mainSink.addAll(scheduleProblems(schedule.data));

  const sources: Source[] = [
    { sink: mainSink, doc, source: relative(dir, path), defaults: inlineDefaults(doc) },
  ];
  const globs = ConfigFile.shape.catalogs.safeParse(doc.catalogs);
  if (globs.success) {
    const files = await expandCatalogs(globs.data, dir, mainSink);
    const catalogs = await Promise.all(files.map((abs) => readYamlMapping(relative(dir, abs), abs)));
    catalogs.forEach((cat, i) => {
      const source = relative(dir, files[i] as string);
      if (!cat.ok) {
        log.file(source, source, undefined).addRendered(cat.problems);
        return;
      }
      const sink = log.file(source, source, cat.doc);
      const result = CatalogFile.safeParse(cat.doc);
      if (!result.success) sink.addAll(issueProblems(result.error.issues));
      sources.push({ sink, doc: cat.doc, source, defaults: catalogDefaults(cat.doc) });
    });
  }

  const targets = resolveTargets(sources, schedule.success ? schedule.data : undefined);
  const problems = log.render();
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const { targets: _inline, catalogs, ...rest } = parsed.data;
  // Credential and CA files are relative to the config file, like storage.dir.
  const remote_write = rest.remote_write.map((r) => ({
    ...r,
    ...(r.bearer_token_file !== undefined ? { bearer_token_file: resolve(dir, r.bearer_token_file) } : {}),
    ...(r.basic_auth?.password_file !== undefined ? { basic_auth: { ...r.basic_auth, password_file: resolve(dir, r.basic_auth.password_file) } } : {}),
    ...(r.tls?.ca_file !== undefined ? { tls: { ...r.tls, ca_file: resolve(dir, r.tls.ca_file) } } : {}),
  }));
  return { ...rest, remote_write, path, storageDir: resolve(dir, rest.storage.dir), catalogs, targets };
}

/**
 * Validates each target on its own (so one bad target does not hide the others' problems),
 * applies the defaults of the file it came from, and checks ids are unique across all files.
 */
function resolveTargets(sources: readonly Source[], schedule: Schedule | undefined): ResolvedTarget[] {
  const firstSeen = new Map<string, string>();
  const resolved: ResolvedTarget[] = [];
  for (const { sink, doc, source, defaults } of sources) {
    const raws: unknown[] = Array.isArray(doc.targets) ? doc.targets : [];
    raws.forEach((raw, i) => {
      const at: IssuePath = ['targets', i];
      const id = targetId(doc, i);
      if (id !== undefined) {
        const first = firstSeen.get(id);
        if (first !== undefined) sink.add(at, `duplicate id, first defined in ${first}`);
        else firstSeen.set(id, `${source} targets.${i}`);
      }
      const parsed = TargetInput.safeParse(raw);
      if (!parsed.success || !isRecord(raw)) return;
      const t = parsed.data;
      sink.addAll(targetProblems(t, schedule).map((p) => ({ path: [...at, ...p.path], message: p.message })));
      const country = t.country ?? defaults.country;
      if (country === undefined) {
        if (defaults.countryKnown) sink.add([...at, 'country'], `required: ${defaults.countryHint}`);
        return;
      }
      // Object.assign, not a spread followed by more keys: V8 gives every object made that way
      // a hidden class of its own, about 400 bytes per target kept for the daemon's lifetime.
      resolved.push(
        Object.assign({}, t, {
          country,
          asn: t.asn ?? defaults.asn,
          category: t.category ?? defaults.category ?? 'general',
          // The schema defaults control to false, so only the raw document says whether it was set.
          control: 'control' in raw ? t.control : (defaults.control ?? t.control),
          source,
        }),
      );
    });
  }
  return resolved;
}

/** Checks between a target's fields, and between its timing and the schedule's. */
function targetProblems(t: TargetInput, schedule: Schedule | undefined): Problem[] {
  const out: Problem[] = [];
  const interval = t.interval ?? schedule?.interval;
  const timeout = t.timeout ?? schedule?.timeout;
  const ownTiming = t.interval !== undefined || t.timeout !== undefined;
  if (ownTiming && interval !== undefined && timeout !== undefined && timeout >= interval) {
    if (t.timeout !== undefined) {
      const from = t.interval === undefined ? ' from schedule.interval' : '';
      out.push({ path: ['timeout'], message: `${formatDuration(timeout)} must be shorter than the interval (${formatDuration(interval)}${from})` });
    } else {
      out.push({ path: ['interval'], message: `${formatDuration(interval)} must be longer than the timeout (${formatDuration(timeout)} from schedule.timeout)` });
    }
  }
  if (t.interval !== undefined && schedule !== undefined && schedule.confirm_delay >= t.interval) {
    out.push({ path: ['interval'], message: `${formatDuration(t.interval)} must be longer than schedule.confirm_delay (${formatDuration(schedule.confirm_delay)})` });
  }
  if (t.kind === 'http' && /^http:/i.test(t.url)) {
    if (t.sni !== undefined) out.push({ path: ['sni'], message: 'only applies to https:// URLs' });
    if (t.insecure_skip_verify) out.push({ path: ['insecure_skip_verify'], message: 'only applies to https:// URLs' });
  }
  if (t.kind === 'dns' && t.expect.answers_in !== undefined && t.query.type !== 'A' && t.query.type !== 'AAAA') {
    out.push({ path: ['expect', 'answers_in'], message: `only applies to A and AAAA queries (query.type is ${t.query.type})` });
  }
  return out;
}

function scheduleProblems(s: Schedule): Problem[] {
  const out: Problem[] = [];
  const interval = formatDuration(s.interval);
  if (s.timeout >= s.interval) {
    out.push({ path: ['schedule', 'timeout'], message: `${formatDuration(s.timeout)} must be shorter than schedule.interval (${interval})` });
  }
  if (s.confirm_delay >= s.interval) {
    out.push({ path: ['schedule', 'confirm_delay'], message: `${formatDuration(s.confirm_delay)} must be shorter than schedule.interval (${interval})` });
  }
  return out;
}

/** Inline targets take their country from the vantage point. */
function inlineDefaults(doc: Doc): Defaults {
  const hint = 'set country on the target or vantage.country';
  const vantage = doc.vantage;
  if (!isRecord(vantage)) return { countryKnown: true, countryHint: hint };
  const country = ConfigFile.shape.vantage.shape.country.safeParse(vantage.country);
  return { country: country.data, countryKnown: country.success, countryHint: hint };
}

/** A catalog's top-level fields are defaults for its targets; invalid ones are reported elsewhere. */
function catalogDefaults(doc: Doc): Defaults {
  const field = CatalogFile.shape;
  const country = field.country.safeParse(doc.country);
  return {
    country: country.data,
    asn: field.asn.safeParse(doc.asn).data,
    category: field.category.safeParse(doc.category).data,
    control: field.control.safeParse(doc.control).data,
    countryKnown: country.success,
    countryHint: 'set country on the target or at the top of the catalog',
  };
}

/**
 * Expands catalog globs relative to `dir` into absolute paths: glob order, matches sorted, each
 * file once. A glob matching nothing is a problem.
 */
async function expandCatalogs(patterns: readonly string[], dir: string, sink: FileProblems): Promise<string[]> {
  const matches = await Promise.all(
    patterns.map((pattern) => glob(pattern, { cwd: dir, absolute: true, onlyFiles: true, expandDirectories: false })),
  );
  const files = new Set<string>();
  matches.forEach((found, i) => {
    if (found.length === 0) sink.add(['catalogs', i], `${JSON.stringify(patterns[i])} matches no file`);
    for (const f of [...found].sort()) files.add(resolve(f));
  });
  return [...files];
}

type ReadResult = { ok: true; doc: Doc } | { ok: false; problems: string[] };

/**
 * Reads one YAML file that must hold a mapping. `label` names the file in problems: syntax
 * errors (duplicate keys included) are `label:line:col: message`, 1-based.
 */
async function readYamlMapping(label: string, path: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, problems: [`${label}: cannot read: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const lineCounter = new LineCounter();
  const yaml = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  if (yaml.errors.length > 0) {
    return {
      ok: false,
      problems: yaml.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `${label}:${line}:${col}: ${e.message}`;
      }),
    };
  }
  let value: unknown;
  try {
    value = yaml.toJS();
  } catch (err) {
    // toJS throws for alias abuse (too many expansions); that is a problem with the file.
    return { ok: false, problems: [`${label}: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const expected = 'expected a YAML mapping of keys to values';
  if (value === null || value === undefined) return { ok: false, problems: [`${label}: file is empty, ${expected}`] };
  if (Array.isArray(value)) return { ok: false, problems: [`${label}: ${expected}, found a list`] };
  if (!isRecord(value)) return { ok: false, problems: [`${label}: ${expected}, found a ${typeof value}`] };
  return { ok: true, doc: value };
}

/** Problems of every file, kept in file order and rendered in (file, path) order. */
class ProblemLog {
  private readonly files: FileProblems[] = [];

  /**
   * Opens the problem list of the next file. `prefix` precedes each problem (undefined for the
   * main config, whose problems are bare `path: message`); `name` stands in for an empty path.
   */
  file(prefix: string | undefined, name: string, doc: unknown): FileProblems {
    const f = new FileProblems(prefix, name, doc);
    this.files.push(f);
    return f;
  }

  render(): string[] {
    return this.files.flatMap((f) => f.render());
  }
}

class FileProblems {
  private readonly entries: { path: IssuePath; text: string }[] = [];

  constructor(
    private readonly prefix: string | undefined,
    private readonly name: string,
    private readonly doc: unknown,
  ) {}

  add(path: IssuePath, message: string): void {
    const where = formatPath(path, this.doc);
    let text: string;
    if (where === '') text = `${this.name}: ${message}`;
    else text = this.prefix === undefined ? `${where}: ${message}` : `${this.prefix}: ${where}: ${message}`;
    this.entries.push({ path, text });
  }

  addAll(problems: readonly Problem[]): void {
    for (const p of problems) this.add(p.path, p.message);
  }

  /** Problems already rendered whole, such as syntax errors with their line and column. */
  addRendered(texts: readonly string[]): void {
    for (const text of texts) this.entries.push({ path: [], text });
  }

  render(): string[] {
    // Array.prototype.sort is stable: equal paths keep the order they were found in.
    return [...this.entries].sort((a, b) => comparePaths(a.path, b.path)).map((e) => e.text);
  }
}
