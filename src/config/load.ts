/**
 * Loads a configuration: the main YAML file, the catalogs its globs name, validation with the
 * zod schema, catalog defaults, and the checks that span fields or files. Every problem in every
 * file is collected before anything is thrown, in a stable order (file order, then path).
 */
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { LineCounter, parseDocument } from 'yaml';
import { resolveBlocks } from './blocks-schema.js';
import { formatDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { comparePaths, formatPath, isRecord, issueProblems, targetId } from './format.js';
import type { IssuePath, Problem } from './format.js';
import { CatalogFile, ConfigFile, pathTargetId, TargetInput } from './schema.js';
import type { CatalogEntry, Config, ResolvedTarget, SourceBinding } from './schema.js';

export { ConfigError } from './errors.js';

type Schedule = Config['schedule'];
type Doc = Record<string, unknown>;

/** What a file hands down to the targets it defines. */
interface Defaults {
  country?: string;
  asn?: number;
  category?: string;
  control?: boolean;
  /** The catalog's own `source`. */
  source?: SourceBinding;
  /** False when the file's own default country is invalid: a missing country is then not news. */
  countryKnown: boolean;
  /** How to fix a target without a country, for the message. */
  countryHint: string;
}

/** A parsed file that defines targets: the main config or a catalog. */
interface TargetFile {
  readonly sink: FileProblems;
  readonly doc: Doc;
  /** Path relative to the config directory, as in ResolvedTarget.file. */
  readonly file: string;
  /** How problems name the file (LoadOptions.namesFrom). */
  readonly label: string;
  readonly defaults: Defaults;
  /** The sources of the catalog entry that listed this file (each target is probed through each). */
  readonly sources?: readonly SourceBinding[];
}

/** A catalog file to load, and the sources of the entry that named it. */
interface CatalogUse {
  abs: string;
  sources: readonly SourceBinding[] | undefined;
}

export interface LoadOptions {
  /**
   * The folder every file name in the problems is relative to (check-config: the current
   * directory, as the operator typed the config's path), so that one message never mixes two
   * folders. Default: the config file as given, catalogs relative to its folder.
   */
  namesFrom?: string;
  /** The host name `blocks.shard.index: ordinal` reads its number from; default the machine's. */
  hostname?: string;
}

/**
 * Reads, validates and resolves the configuration at `file`.
 * @throws ConfigError listing every problem found in the config file and all its catalogs.
 */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<Config> {
  const absFile = resolve(file);
  const dir = dirname(absFile);
  const log = new ProblemLog();
  const namesFrom = options.namesFrom;
  const label = (abs: string): string => relative(namesFrom ?? dir, abs);
  const mainLabel = namesFrom === undefined ? file : label(absFile);

  const read = await readYamlMapping(mainLabel, absFile);
  if (!read.ok) throw new ConfigError(read.problems);
  const doc = read.doc;
  const mainSink = log.file(undefined, mainLabel, doc);
  const parsed = ConfigFile.safeParse(doc);
  if (!parsed.success) mainSink.addAll(issueProblems(parsed.error.issues, [], ConfigFile));

  const schedule = ConfigFile.shape.schedule.safeParse(doc.schedule);
  if (schedule.success) mainSink.addAll(scheduleProblems(schedule.data));

  const files: TargetFile[] = [
    { sink: mainSink, doc, file: relative(dir, absFile), label: label(absFile), defaults: inlineDefaults(doc) },
  ];
  const paths = new PathNames();
  const globs = ConfigFile.shape.catalogs.safeParse(doc.catalogs);
  if (globs.success) {
    globs.data.forEach((entry, i) => {
      if (typeof entry !== 'string') entry.sources.forEach((b, j) => paths.claim(b, mainSink, ['catalogs', i, 'sources', j]));
    });
    const uses = await expandCatalogs(globs.data, dir, mainSink);
    // A file listed by several entries (through different sources) is read and reported once.
    const reads = new Map<string, Promise<ReadResult>>();
    for (const { abs } of uses) if (!reads.has(abs)) reads.set(abs, readYamlMapping(label(abs), abs));
    const seen = new Map<string, TargetFile>();
    for (const use of uses) {
      const relFile = relative(dir, use.abs);
      const name = label(use.abs);
      const first = seen.get(use.abs);
      if (first) {
        files.push({ ...first, sources: use.sources });
        continue;
      }
      const cat = await (reads.get(use.abs) as Promise<ReadResult>);
      if (!cat.ok) {
        log.file(name, name, undefined).addRendered(cat.problems);
        continue;
      }
      const sink = log.file(name, name, cat.doc);
      const result = CatalogFile.safeParse(cat.doc);
      if (!result.success) sink.addAll(issueProblems(result.error.issues, [], CatalogFile));
      const defaults = catalogDefaults(cat.doc);
      if (defaults.source) paths.claim(defaults.source, sink, ['source']);
      const catalog: TargetFile = { sink, doc: cat.doc, file: relFile, label: name, defaults, sources: use.sources };
      seen.set(use.abs, catalog);
      files.push(catalog);
    }
  }

  const targets = resolveTargets(files, schedule.success ? schedule.data : undefined, paths);
  // Hitlists and the exclude file are relative to the config file; `shard.index: ordinal` is
  // the host's number.
  const blocks = parsed.success ? resolveBlocks(parsed.data.blocks, dir, options.hostname ?? osHostname()) : undefined;
  if (typeof blocks === 'string') mainSink.add(['blocks', 'shard', 'index'], blocks);
  const problems = log.render();
  if (problems.length > 0 || !parsed.success || typeof blocks === 'string') throw new ConfigError(problems);

  const { targets: _inline, catalogs, ...rest } = parsed.data;
  const display = catalogs.map((c) => (typeof c === 'string' ? c : c.file));
  // Credential and CA files are relative to the config file, like storage.dir.
  const remote_write = rest.remote_write.map((r) => ({
    ...r,
    ...(r.bearer_token_file !== undefined ? { bearer_token_file: resolve(dir, r.bearer_token_file) } : {}),
    ...(r.basic_auth?.password_file !== undefined ? { basic_auth: { ...r.basic_auth, password_file: resolve(dir, r.basic_auth.password_file) } } : {}),
    ...(r.tls?.ca_file !== undefined ? { tls: { ...r.tls, ca_file: resolve(dir, r.tls.ca_file) } } : {}),
  }));
  return { ...rest, remote_write, blocks, file: absFile, storageDir: resolve(dir, rest.storage.dir), catalogs: display, targets };
}

/**
 * Source bindings by path name: one name must mean one binding everywhere, or the `path` label
 * would put two uplinks' results into one series. The first place a name is defined is kept for
 * the message.
 */
class PathNames {
  private readonly byName = new Map<string, { binding: string; where: string }>();

  /** Registers `b`, defined at `at` in the file behind `sink`; a conflicting name is a problem there. */
  claim(b: SourceBinding, sink: FileProblems, at: IssuePath): void {
    const binding = b.address !== undefined ? `address ${b.address}` : `interface ${b.interface}`;
    const first = this.byName.get(b.name);
    if (first === undefined) this.byName.set(b.name, { binding, where: sink.where(at) });
    else if (first.binding !== binding) {
      sink.add([...at, 'name'], `path name "${b.name}" already names ${first.binding} (${first.where}); give this source another name`);
    }
  }
}

/**
 * Validates each target on its own (so one bad target does not hide the others' problems),
 * applies the defaults of the file it came from, expands it once per source binding (its own
 * `source`, else the catalog entry's `sources`, else the catalog's `source`, else unbound), and
 * checks ids are unique per path across all files.
 */
function resolveTargets(files: readonly TargetFile[], schedule: Schedule | undefined, paths: PathNames): ResolvedTarget[] {
  const firstSeen = new Map<string, string>();
  const resolved: ResolvedTarget[] = [];
  for (const { sink, doc, file, label, defaults, sources: entrySources } of files) {
    const raws: unknown[] = Array.isArray(doc.targets) ? doc.targets : [];
    raws.forEach((raw, i) => {
      const at: IssuePath = ['targets', i];
      const id = targetId(doc, i);
      const parsed = TargetInput.safeParse(raw);
      const own = parsed.success ? parsed.data.source : undefined;
      if (own) paths.claim(own, sink, [...at, 'source']);
      const bindings: readonly (SourceBinding | undefined)[] = own ? [own] : (entrySources ?? [defaults.source]);
      if (id !== undefined) {
        for (const b of bindings) {
          const key = pathTargetId(id, b?.name ?? '');
          const first = firstSeen.get(key);
          const onPath = b ? ` on path ${b.name}` : '';
          if (first !== undefined) sink.add(at, `duplicate id${onPath}, first defined in ${first}`);
          else firstSeen.set(key, `${label} targets.${i}`);
        }
      }
      if (!parsed.success || !isRecord(raw)) return;
      const { source: _own, ...t } = parsed.data;
      sink.addAll(targetProblems(parsed.data, schedule).map((p) => ({ path: [...at, ...p.path], message: p.message })));
      const country = t.country ?? defaults.country;
      if (country === undefined) {
        if (defaults.countryKnown) sink.add([...at, 'country'], `required: ${defaults.countryHint}`);
        return;
      }
      for (const b of bindings) {
        // Object.assign, not a spread followed by more keys: V8 gives every object made that way
        // a hidden class of its own, about 400 bytes per target kept for the daemon's lifetime.
        const target: ResolvedTarget = Object.assign({}, t, {
          country,
          asn: t.asn ?? defaults.asn,
          category: t.category ?? defaults.category ?? 'general',
          // The schema defaults control to false, so only the raw document says whether it was set.
          control: 'control' in raw ? t.control : (defaults.control ?? t.control),
          file,
        });
        if (b) Object.assign(target, { id: pathTargetId(t.id, b.name), bind: b, path: b.name });
        resolved.push(target);
      }
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
  if ((t.kind === 'dns' || t.kind === 'dot' || t.kind === 'doh') && t.expect.answers_in !== undefined && t.query.type !== 'A' && t.query.type !== 'AAAA') {
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
    source: field.source.safeParse(doc.source).data,
    countryKnown: country.success,
    countryHint: 'set country on the target or at the top of the catalog',
  };
}

/**
 * Expands catalog entries (globs, or `{ file, sources }`) relative to `dir` into the files to
 * load: entry order, matches sorted, each file once per set of sources (a plain glob matching a
 * file already listed plainly adds nothing). A glob matching nothing is a problem.
 */
async function expandCatalogs(entries: readonly (string | CatalogEntry)[], dir: string, sink: FileProblems): Promise<CatalogUse[]> {
  const patterns = entries.map((e) => (typeof e === 'string' ? e : e.file));
  const matches = await Promise.all(
    patterns.map((pattern) => glob(pattern, { cwd: dir, absolute: true, onlyFiles: true, expandDirectories: false })),
  );
  const uses = new Map<string, CatalogUse>();
  matches.forEach((found, i) => {
    const entry = entries[i];
    const sources = typeof entry === 'string' || entry === undefined ? undefined : entry.sources;
    const at = typeof entry === 'string' ? ['catalogs', i] : ['catalogs', i, 'file'];
    if (found.length === 0) sink.add(at, `${JSON.stringify(patterns[i])} matches no file in ${dir} (globs are relative to the config file's folder)`);
    const bindingKey = sources === undefined ? '' : JSON.stringify(sources);
    for (const f of [...found].sort()) {
      const abs = resolve(f);
      const key = `${abs}\u0000${bindingKey}`;
      if (!uses.has(key)) uses.set(key, { abs, sources });
    }
  });
  return [...uses.values()];
}

type ReadResult = { ok: true; doc: Doc } | { ok: false; problems: string[] };

/**
 * Reads one YAML file that must hold a mapping. `label` names the file in problems: syntax
 * errors (duplicate keys included) are `label:line:col: message`, 1-based.
 */
async function readYamlMapping(label: string, file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
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

  add(at: IssuePath, message: string): void {
    const where = formatPath(at, this.doc);
    let text: string;
    if (where === '') text = `${this.name}: ${message}`;
    else text = this.prefix === undefined ? `${where}: ${message}` : `${this.prefix}: ${where}: ${message}`;
    this.entries.push({ path: at, text });
  }

  /** How a path of this file is named in messages: `file.yaml: targets.2 (id).source`. */
  where(at: IssuePath): string {
    const where = formatPath(at, this.doc);
    return this.prefix === undefined ? where : `${this.prefix}: ${where}`;
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
