/**
 * Fuzzing harness shared by the CI property tests (tests/unit/fuzz/) and the bench runner
 * (bench/fuzz/run.ts): for each input kind, a fast-check arbitrary of hostile inputs and an
 * oracle that feeds one input to the real entry point and names the outcome.
 *
 * The contract every oracle checks: bad input is data, never an exception. A config, catalog
 * or scenario is valid or a list of `where: message` problems; an API query answers 200 or 400
 * naming a parameter it was given; a replay reads every line, reporting bad ones by number. An
 * oracle throws a FuzzViolation when the contract is broken (an exception escaped, a problem
 * without a location, a 500, a stack trace in a message).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigFile } from '../../src/config/schema.js';
import { replayCommand } from '../../src/commands/replay-command.js';
import { apiRoutes, type ApiRoute } from '../../src/server/api.js';
import { daemonConfig } from '../../src/sim/run.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { layoutWorld } from '../../src/sim/world.js';

/** The contract was broken: what happened, for the report (and fast-check's shrinking). */
export class FuzzViolation extends Error {
  override readonly name = 'FuzzViolation';
}

export interface FuzzKind<T> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Runs one input; resolves with the outcome's name, rejects with FuzzViolation. */
  check(input: T): Promise<string>;
  /** Removes temporary files. */
  dispose(): void;
}

// ---------------------------------------------------------------------------------------------
// YAML mutations

/** Values worth trying anywhere in a document: edges of every type the schemas take. */
const NASTY_STRINGS = [
  '', ' ', '0', '-1', '0s', '-5s', '1e309', '999999999999h', 'NaN', 'Infinity', '5 s', '10x', '1.5s', '0.0001ms',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  '127.0.0.1:99999', '[::1]:53', ':53', 'host:', '0.0.0.0', '::', '256.1.1.1', '127.0.0.0/33', '2001:db8::/129',
  'http://', 'https://[::1', 'ftp://x', 'javascript:alert(1)', 'https://a\u0000b/', 'http://x:0/', 'http://x:65536/',
  'KZ', 'kz', 'ZZZ', 'A', 'AAAA', 'MX', 'ANY', 'NOERROR', 'SERVFAIL', 'GET', 'POST', 'get',
  '\u0000', '\uffff', '\ud800', '💥', 'a'.repeat(300), '*', '**/*.yaml', '../../../../etc/passwd', '/dev/zero',
  '${HOME}', '%s%s%n', '"', "'", '\\', '\n', '- x', '{', '[', '&a', '*a', '!!js/function', 'yes', 'no', 'on', 'off', '~',
];

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.constantFrom(0, -1, 1, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, 0.5, -0.0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

/** Any JSON-like value, nested a little. */
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...NASTY_STRINGS.slice(11, 16)), fc.string({ maxLength: 12 })), tie('v'), { maxKeys: 3 }),
  ),
})).v;

/** One edit of a parsed document, applied at the path chosen by `at` (an index, modulo). */
type TreeEdit =
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'duplicate'; at: number };

/** One edit of the text itself, at a position chosen by `at` (modulo the length). */
type TextEdit = { op: 'insert'; at: number; text: string } | { op: 'delete'; at: number; length: number } | { op: 'truncate'; at: number };

export type YamlMutation = { layer: 'tree'; edits: TreeEdit[] } | { layer: 'text'; edits: TextEdit[] } | { layer: 'raw'; text: string };

const treeEdit: fc.Arbitrary<TreeEdit> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 12 })), value }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
);

const YAML_SNIPPETS = [':', ': ', '- ', '\n', '\n  ', '  ', '"', "'", '#', '{', '}', '[', ']', ',', '&x ', '*x', '!!binary ', '? ', '|', '>', '\t', '%YAML 1.1\n', '---\n', '...\n', '<<: *x\n'];
const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...YAML_SNIPPETS), fc.string({ maxLength: 8 })) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

/** A mutation: mostly structural (reaches the schema), sometimes textual (reaches the parser). */
export const yamlMutation: fc.Arbitrary<YamlMutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ layer: fc.constant('tree' as const), edits: fc.array(treeEdit, { minLength: 1, maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ layer: fc.constant('text' as const), edits: fc.array(textEdit, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ layer: fc.constant('raw' as const), text: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', '~', '[]', '- a', 'a: &a [*a]', 'x: !!int abc', '{a: 1, a: 2}')) }) },
);

type Container = Record<string, unknown> | unknown[];

/** Every container in the tree with its keys, depth first (the root included). */
function slots(root: unknown): { parent: Container; key: string | number }[] {
  const out: { parent: Container; key: string | number }[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > 8 || node === null || typeof node !== 'object') return;
    const c = node as Container;
    const keys: (string | number)[] = Array.isArray(c) ? c.map((_, i) => i) : Object.keys(c);
    for (const k of keys) {
      out.push({ parent: c, key: k });
      walk((c as Record<string | number, unknown>)[k], depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

function applyTree(doc: unknown, edits: readonly TreeEdit[]): unknown {
  const root = structuredClone(doc);
  for (const e of edits) {
    const all = slots(root);
    if (all.length === 0) break;
    const { parent, key } = all[e.at % all.length] as { parent: Container; key: string | number };
    const p = parent as Record<string | number, unknown>;
    switch (e.op) {
      case 'set':
        p[key] = e.value;
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete p[key];
        break;
      case 'add': {
        const target = p[key];
        if (Array.isArray(target)) target.push(e.value);
        else if (target !== null && typeof target === 'object') Object.defineProperty(target, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
        else p[key] = { [e.key]: e.value };
        break;
      }
      case 'duplicate': {
        const target = p[key];
        if (Array.isArray(target) && target.length > 0) target.push(structuredClone(target[0]));
        break;
      }
    }
  }
  return root;
}

function applyText(text: string, edits: readonly TextEdit[]): string {
  let t = text;
  for (const e of edits) {
    const at = t.length === 0 ? 0 : e.at % (t.length + 1);
    if (e.op === 'insert') t = t.slice(0, at) + e.text + t.slice(at);
    else if (e.op === 'delete') t = t.slice(0, at) + t.slice(at + e.length);
    else t = t.slice(0, at);
  }
  return t;
}

/** The mutated text of the YAML document `base`. */
export function mutateYaml(base: string, m: YamlMutation): string {
  if (m.layer === 'raw') return m.text;
  if (m.layer === 'text') return applyText(base, m.edits);
  return stringifyYaml(applyTree(parseYaml(base), m.edits));
}

// ---------------------------------------------------------------------------------------------
// Oracles' shared checks

/** A problem line: a location (path, file, file:line:col) then ": " and a message; one line, no stack. */
const PROBLEM = /^[^\n]+?: [^\n]+$/;

function checkProblems(problems: readonly string[], what: string): void {
  if (problems.length === 0) throw new FuzzViolation(`${what}: ConfigError without problems`);
  for (const p of problems) {
    if (!PROBLEM.test(p)) throw new FuzzViolation(`${what}: problem is not "where: message": ${JSON.stringify(p)}`);
    if (/\n\s+at |\bat .*\.(ts|js):\d+/.test(p)) throw new FuzzViolation(`${what}: problem carries a stack trace: ${JSON.stringify(p)}`);
  }
}

function escaped(what: string, err: unknown): FuzzViolation {
  const detail = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
  return new FuzzViolation(`${what}: exception escaped: ${detail}`);
}

function readRepo(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

// ---------------------------------------------------------------------------------------------
// config and catalogs

export interface ConfigInput {
  /** Which file is mutated: the main config or one of the catalogs. */
  file: number;
  mutation: YamlMutation;
}

/** The shipped config (catalogs pointed at copies of the shipped catalogs) and those catalogs. */
export function configKind(root: string): FuzzKind<ConfigInput> {
  const catalogs = ['probes/kz.yaml', 'probes/controls.yaml', 'probes/international.yaml'].map((p) => readRepo(root, p));
  const main = readRepo(root, 'config/lookout.yaml').replace(/catalogs:[\s\S]*$/m, 'catalogs:\n  - "cat-*.yaml"\n');
  const bases = [main, ...catalogs];
  const dir = mkdtempSync(join(tmpdir(), 'lookout-fuzz-config-'));
  return {
    name: 'config',
    arbitrary: fc.record({ file: fc.nat({ max: bases.length - 1 }), mutation: yamlMutation }),
    async check({ file, mutation }) {
      bases.forEach((b, i) => writeFileSync(join(dir, i === 0 ? 'lookout.yaml' : `cat-${i}.yaml`), i === file ? mutateYaml(b, mutation) : b));
      try {
        await loadConfig(join(dir, 'lookout.yaml'));
        return 'valid';
      } catch (err) {
        if (!(err instanceof ConfigError)) throw escaped('loadConfig', err);
        checkProblems(err.problems, 'loadConfig');
        return 'problems';
      }
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// scenario files

export interface ScenarioInput {
  file: number;
  mutation: YamlMutation;
}

export function scenarioKind(root: string): FuzzKind<ScenarioInput> {
  const names = ['kz-2019-06-09', 'asn-by-asn', 'blockpage', 'dns-blocking-social', 'quiet', 'reset-blocking', 'vantage-offline'];
  const bases = names.map((n) => readRepo(root, `scenarios/${n}.yaml`));
  return {
    name: 'scenario',
    arbitrary: fc.record({ file: fc.nat({ max: bases.length - 1 }), mutation: yamlMutation }),
    check: (input) => Promise.resolve(checkScenario(bases, input)),
    dispose: () => undefined,
  };
}

function checkScenario(bases: readonly string[], { file, mutation }: ScenarioInput): string {
  const text = mutateYaml(bases[file] as string, mutation);
  let scenario;
  try {
    scenario = parseScenario(text, 's.yaml');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw escaped('parseScenario', err);
    checkProblems(err.problems, 'parseScenario');
    return 'problems';
  }
  // A scenario that validates must lay out and give the daemon a config it accepts.
  try {
    const { targets } = layoutWorld(scenario);
    const config = ConfigFile.safeParse(daemonConfig(scenario, { targets }, '127.0.0.1:9464'));
    if (!config.success) throw new FuzzViolation(`valid scenario, invalid daemon config: ${JSON.stringify(config.error.issues[0])}`);
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    throw escaped('layoutWorld/daemonConfig', err);
  }
  return 'valid';
}

// ---------------------------------------------------------------------------------------------
// API query strings

const API_KEYS = ['active', 'country', 'kind', 'since'];
const API_VALUES = [
  'true', 'false', 'TRUE', '1', '', 'KZ', 'kz', 'ZZZ', 'K', 'country_outage', 'asn_outage', 'vantage_offline', 'blocking', 'throttling', 'nope',
  '2019-06-09T05:00:00Z', '2019-06-09T05:00:00+06:00', '2019-06-09T05:00:00 06:00', '2019-13-45T99:99:99Z', '2019-06-09', '0', '-1', '1e309',
  '275760-09-13T00:00:00Z', '+275760-09-13T00:00:00.000Z', '9999-12-31T23:59:59.999999999Z', '1970-01-01T00:00:00-23:59',
];

/** A query string: known and unknown keys, values valid or not, encoded or raw. */
export const apiQuery: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.record({
          key: fc.oneof(fc.constantFrom(...API_KEYS), fc.string({ maxLength: 10 })),
          value: fc.oneof(fc.constantFrom(...API_VALUES), fc.string({ maxLength: 30 })),
          encode: fc.boolean(),
        }),
        { maxLength: 5 },
      )
      .map((pairs) => pairs.map((p) => (p.encode ? `${encodeURIComponent(p.key)}=${encodeURIComponent(p.value)}` : `${p.key}=${p.value}`)).join('&')),
  },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('%', '%zz', '%E0%A4%A', '&&&', '=', '==', 'active', 'since=%2B', '?a=1', '#x', 'kind[]=x', 'a=1;b=2')) },
);

export function apiKind(): FuzzKind<string> {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const routes = apiRoutes({
    status: () => ({ ok: true }),
    events: () => [
      { id: 'e1', kind: 'country_outage', country: 'KZ', started_at: new Date(now - 3_600_000).toISOString(), ended_at: null },
      { id: 'e2', kind: 'blocking', country: 'RU', started_at: new Date(now - 7_200_000).toISOString(), ended_at: new Date(now - 3_600_000).toISOString() },
    ] as never,
  });
  const route = routes['/api/v1/events'];
  if (!route) throw new Error('no /api/v1/events route');
  return {
    name: 'api',
    arbitrary: apiQuery,
    check: (qs) => Promise.resolve(checkApi(route, qs)),
    dispose: () => undefined,
  };
}

function checkApi(route: ApiRoute, qs: string): string {
  let query: URLSearchParams;
  try {
    // As the server does: everything after the first "?".
    query = new URLSearchParams(qs);
  } catch (err) {
    throw escaped('URLSearchParams', err);
  }
  let answer;
  try {
    answer = route(query);
  } catch (err) {
    throw escaped('/api/v1/events', err);
  }
  if (answer.status === 200) {
    JSON.stringify(answer.body);
    return '200';
  }
  if (answer.status !== 400) throw new FuzzViolation(`status ${answer.status} for ${JSON.stringify(qs)}`);
  const error = (answer.body as { error?: unknown }).error;
  if (typeof error !== 'string') throw new FuzzViolation(`400 without an error message for ${JSON.stringify(qs)}`);
  // The parameter as given, or JSON-quoted when it is empty or odd.
  const quoted = /^"(?:[^"\\]|\\.)*"(?=: )/.exec(error)?.[0];
  const param = quoted !== undefined ? (JSON.parse(quoted) as string) : error.slice(0, Math.max(0, error.indexOf(': ')));
  if (!error.includes(': ') || !query.has(param)) throw new FuzzViolation(`400 does not name a parameter of the query: ${JSON.stringify(error)} for ${JSON.stringify(qs)}`);
  return '400';
}

// ---------------------------------------------------------------------------------------------
// replay input

const TARGETS = [
  { id: 'kz-a', kind: 'http', url: 'https://a.example/', asn: 9198, category: 'news' },
  { id: 'kz-b', kind: 'tls', host: 'b.example', asn: 9198, category: 'news' },
  { id: 'kz-c', kind: 'tcp', host: 'c.example', port: 443, asn: 21299, category: 'gov' },
  { id: 'kz-d', kind: 'dns', server: '127.0.0.53:53', query: { name: 'd.example', type: 'A' }, asn: 21299, category: 'gov' },
  { id: 'ctl-1', kind: 'tls', host: 'ctl.example', country: 'ZZ', control: true, category: 'control' },
];

const REPLAY_CONFIG = stringifyYaml({
  vantage: { id: 'fuzz' },
  storage: { dir: './data' },
  schedule: { interval: '60s', timeout: '10s' },
  targets: TARGETS.map((t) => ({ country: 'KZ', ...t })),
});

const RECORDED_FROM = Date.parse('2026-03-01T00:00:00Z');

/** A recorded result, valid by construction: the base that line mutations start from. */
const validResult = fc
  .record({
    target: fc.constantFrom(...TARGETS.map((t) => t.id), 'unknown-target'),
    ok: fc.boolean(),
    reason: fc.constantFrom('tcp_timeout', 'tls_reset', 'dns_nxdomain', 'http_status', 'unknown', 'http_protocol_error'),
    // Mostly two days of 2026 (a real recording); sometimes anywhere from 1970 to 2109.
    at: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: RECORDED_FROM, max: RECORDED_FROM + 2 * 86_400_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 42 }) }),
    total: fc.double({ min: 0, max: 1e6, noNaN: true }),
    status: fc.option(fc.integer({ min: 100, max: 999 }), { nil: undefined }),
    confirm: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((r) => {
    const kind = TARGETS.find((t) => t.id === r.target)?.kind ?? 'http';
    return {
      target: r.target,
      kind,
      ok: r.ok,
      reason: r.ok ? null : r.reason,
      phases: { total: r.total },
      ip: null,
      at: r.at,
      ...(r.status === undefined ? {} : { status: r.status }),
      ...(r.confirm === undefined ? {} : { confirm: r.confirm }),
    };
  });

/** One line of a results file: valid, a valid result with a field made hostile, any JSON, or not JSON. */
const resultLine: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: validResult.map((r) => JSON.stringify(r)) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(validResult, fc.constantFrom('target', 'kind', 'ok', 'reason', 'phases', 'ip', 'at', 'status', 'detail', 'confirm', 'cert_expiry', '__proto__', 'extra'), value)
      .map(([r, k, v]) => {
        const o: Record<string, unknown> = { ...r };
        Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        return JSON.stringify(o);
      }),
  },
  { weight: 1, arbitrary: value.map((v) => JSON.stringify(v) ?? 'undefined') },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', ' ', '{', '{"target":', '\u0000', '[1,2', '{"at":1e999}', 'null', '1e309')) },
);

export function replayKind(): FuzzKind<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-fuzz-replay-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configPath = join(dir, 'lookout.yaml');
  const resultsPath = join(dir, 'results.jsonl');
  writeFileSync(configPath, REPLAY_CONFIG);
  const errLine = /^.+results\.jsonl(:\d+)?: .+$/;
  return {
    name: 'replay',
    arbitrary: fc.array(resultLine, { minLength: 1, maxLength: 12 }),
    async check(lines) {
      writeFileSync(resultsPath, lines.join('\n'));
      const out: string[] = [];
      const errs: string[] = [];
      let code: number;
      try {
        code = await replayCommand(configPath, resultsPath, { out: (l) => out.push(l), err: (l) => errs.push(l) });
      } catch (err) {
        throw escaped('replay', err);
      }
      for (const e of errs) if (!errLine.test(e) || e.includes('\n')) throw new FuzzViolation(`replay error line without its line number: ${JSON.stringify(e)}`);
      for (const o of out) JSON.parse(o);
      if (code !== 0 && code !== 1) throw new FuzzViolation(`replay exit code ${code}`);
      if (code === 1 && errs.length === 0) throw new FuzzViolation('replay failed without saying why');
      return code === 0 ? 'all lines read' : 'bad lines reported';
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Every input kind, in report order. */
export function allKinds(root: string): FuzzKind<never>[] {
  return [configKind(root), scenarioKind(root), apiKind(), replayKind()] as unknown as FuzzKind<never>[];
}
