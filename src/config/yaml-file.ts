/**
 * Reading one YAML file of the configuration (the main file or a catalog) into a mapping, with
 * problems that name the file, and the line and column of a syntax error.
 */
import { readFile } from 'node:fs/promises';
import { CORE_SCHEMA, load as loadYamlLight } from 'js-yaml';
import { LineCounter, parseDocument } from 'yaml';
import { isRecord } from './format.js';

type Doc = Record<string, unknown>;

export type ReadResult = { ok: true; doc: Doc } | { ok: false; problems: string[] };

/**
 * Reads one YAML file that must hold a mapping. `label` names the file in problems: syntax
 * errors (duplicate keys included) are `label:line:col: message`, 1-based.
 */
export async function readYamlMapping(label: string, file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [`${label}: cannot read: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const light = parseLight(text);
  return light.ok ? mappingOf(label, light.value) : readYamlDocument(label, text);
}

/**
 * What the two parsers could read differently: directives, anchors, aliases, tags, explicit
 * (`? `) keys and binary numbers (js-yaml's core schema takes 0b11 as 3, YAML 1.2's as a
 * string). A file with any of them, even inside a quoted string, takes the exact parser.
 */
const EXACT_ONLY = /^%|(?:^|[\s[{,])[&*!]\S|^\s*(?:-\s+)*\?(?:\s|$)|(?:^|[\s[{,:])[-+]?0b/m;

/**
 * A light parse for the common case, a valid plain file: js-yaml (YAML 1.2 core schema,
 * duplicate keys refused) builds the values directly, where the document model of the `yaml`
 * package takes about 90 times the file's size in garbage (480 MB of heap for a 5.6 MB list of
 * 50,000 targets, the start-up's peak RSS; bench/RESULTS.md "Scale curve"). Anything else (a
 * syntax error, a duplicate key, several documents, directives, anchors, aliases or tags) is
 * left to readYamlDocument, whose messages and limits stay the ones of record.
 */
export function parseLight(text: string): { ok: true; value: unknown } | { ok: false } {
  if (EXACT_ONLY.test(text)) return { ok: false };
  try {
    // An empty file is null, as the yaml package reads it.
    return { ok: true, value: loadYamlLight(text, { schema: CORE_SCHEMA }) ?? null };
  } catch {
    return { ok: false };
  }
}

/** The `yaml` package's parse: syntax errors with their line and column, alias limits. */
function readYamlDocument(label: string, text: string): ReadResult {
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
  return mappingOf(label, value);
}

/** The parsed file as a mapping, or the problem with it. */
function mappingOf(label: string, value: unknown): ReadResult {
  const expected = 'expected a YAML mapping of keys to values';
  if (value === null || value === undefined) return { ok: false, problems: [`${label}: file is empty, ${expected}`] };
  if (Array.isArray(value)) return { ok: false, problems: [`${label}: ${expected}, found a list`] };
  if (!isRecord(value)) return { ok: false, problems: [`${label}: ${expected}, found a ${typeof value}`] };
  return { ok: true, doc: value };
}
