/**
 * The keys a zod schema accepts at a path of a document, for "did you mean" hints on unknown
 * keys. Walks zod's own definitions (objects, arrays, unions, and the wrappers around them:
 * optional, default, pipe...); a path it cannot follow gives no keys, never an error.
 */
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: readonly z.ZodType[];
  valueType?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object schemas a value at `path` may be checked against (several under a union). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[], depth = 0): Def[] {
  if (depth > 64) return [];
  const def = defOf(schema);
  const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  if (inner !== undefined) return objectsAt(inner, path, depth + 1);
  if (def.type === 'union' && def.options) return def.options.flatMap((o) => objectsAt(o, path, depth + 1));
  if (path.length === 0) return def.type === 'object' ? [def] : [];
  const [head, ...rest] = path;
  if (def.type === 'object' && typeof head === 'string') {
    const field = def.shape?.[head];
    return field ? objectsAt(field, rest, depth + 1) : [];
  }
  if (def.type === 'array' && typeof head === 'number' && def.element) return objectsAt(def.element, rest, depth + 1);
  if (def.type === 'record' && def.valueType) return objectsAt(def.valueType, rest, depth + 1);
  return [];
}

/**
 * Every key accepted by the object at `path` of `schema` (empty when unknown), those shared by
 * more branches of a union first (a target's `host` before the icmp kind's `hosts`).
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const count = new Map<string, number>();
  for (const d of objectsAt(schema, path)) for (const key of Object.keys(d.shape ?? {})) count.set(key, (count.get(key) ?? 0) + 1);
  return [...count.keys()].sort((a, b) => (count.get(b) ?? 0) - (count.get(a) ?? 0));
}

/**
 * The known key an unknown one was probably meant to be: the closest by edit distance (the
 * first of `known` among equals), when it is within a third of the key's length (at least 1),
 * else undefined. Undefined too when the key is known but not here (a key of another target
 * kind): the hint would repeat it.
 */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  if (known.length === 0 || known.includes(unknown)) return undefined;
  const best = closest(unknown, [...known]);
  return distance(unknown, best) <= Math.max(1, Math.floor(unknown.length / 3)) ? best : undefined;
}
