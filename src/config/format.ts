/**
 * Turns validation issues into located, human-readable problems and renders their paths.
 *
 * One path format is used everywhere: dotted keys with numeric indices, and a target named by its
 * id right after its index when it has one: `targets.3 (kz-egov).url`. Keys that are not plain
 * identifiers are quoted: `headers["x y"]`.
 */
import type { z } from 'zod';
import { knownKeysAt, suggestKey } from './known-keys.js';

/** A path inside one parsed YAML document. */
export type IssuePath = readonly PropertyKey[];

/** One problem inside one file, before rendering. */
export interface Problem {
  readonly path: IssuePath;
  readonly message: string;
}

type Issue = z.core.$ZodIssue;

/**
 * Flattens zod issues into problems: one per unknown key (path includes the key, message
 * "unknown key", with `(did you mean "x"?)` when `schema`, the one that was parsed, has a key
 * close to it there), union failures reduced to the branch that came closest, zod's generic
 * "Invalid input: " prefix dropped and missing values called "required".
 */
export function issueProblems(issues: readonly Issue[], base: IssuePath = [], schema?: z.ZodType): Problem[] {
  return issues.flatMap((issue) => oneIssue(issue, [...base, ...issue.path], schema ? { schema, at: issue.path } : undefined));
}

/** The schema that was parsed and where the issue is in it, for key suggestions. */
interface Within {
  schema: z.ZodType;
  at: IssuePath;
}

function unknownKey(key: string, within: Within | undefined): string {
  const hint = within ? suggestKey(key, knownKeysAt(within.schema, within.at)) : undefined;
  return hint === undefined ? 'unknown key' : `unknown key (did you mean "${hint}"?)`;
}

function oneIssue(issue: Issue, path: IssuePath, within?: Within): Problem[] {
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKey(key, within) }));
    case 'invalid_union':
      return unionProblems(issue, path);
    case 'invalid_key':
      return issue.issues.map((inner) => ({ path, message: `invalid key: ${cleanMessage(inner)}` }));
    case 'invalid_element':
      return issueProblems(issue.issues, path);
    default:
      return [{ path, message: cleanMessage(issue) }];
  }
}

/**
 * A union such as `200 | [200, 399]` fails with one issue list per branch. A branch whose only
 * complaint is the value's type at its root did not come close; when some branch got further,
 * its deeper issues are the useful ones. When none did, say which types were expected.
 */
function unionProblems(issue: Extract<Issue, { code: 'invalid_union' }>, path: IssuePath): Problem[] {
  if (issue.errors.length === 0) return [{ path, message: cleanMessage(issue) }];
  const isTypeMiss = (i: Issue): boolean => i.code === 'invalid_type' && i.path.length === 0;
  const close = issue.errors.find((branch) => !branch.every(isTypeMiss));
  if (close) return issueProblems(close, path);
  const expected = [
    ...new Set(issue.errors.flat().flatMap((i) => (i.code === 'invalid_type' ? [i.expected] : []))),
  ];
  const received = /received (\w+)/.exec(issue.errors[0]?.[0]?.message ?? '')?.[1];
  const message = `expected ${expected.join(' or ')}` + (received ? `, received ${received}` : '');
  return [{ path, message }];
}

function cleanMessage(issue: Issue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    return `required (expected ${issue.expected})`;
  }
  return issue.message.replace(/^Invalid input: /, '');
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Renders a path; `root` is the raw document it points into, used to name targets by id.
 * An empty path renders as "".
 */
export function formatPath(path: IssuePath, root: unknown): string {
  let out = '';
  path.forEach((seg, i) => {
    if (typeof seg === 'number') out += `${i === 0 ? '' : '.'}${seg}`;
    else if (typeof seg === 'string' && PLAIN_KEY.test(seg)) out += `${i === 0 ? '' : '.'}${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
    if (i === 1 && path[0] === 'targets' && typeof seg === 'number') {
      const id = targetId(root, seg);
      if (id !== undefined) out += ` (${id})`;
    }
  });
  return out;
}

/** The id a raw document's `targets[index]` declares, when it declares a non-empty string one. */
export function targetId(root: unknown, index: number): string | undefined {
  if (!isRecord(root) || !Array.isArray(root.targets)) return undefined;
  const target: unknown = root.targets[index];
  if (!isRecord(target) || typeof target.id !== 'string' || target.id === '') return undefined;
  return target.id;
}

/** Orders paths element by element: numbers numerically, keys by code point, prefixes first. */
export function comparePaths(a: IssuePath, b: IssuePath): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const sx = String(x);
    const sy = String(y);
    if (sx !== sy) return sx < sy ? -1 : 1;
  }
  return a.length - b.length;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
