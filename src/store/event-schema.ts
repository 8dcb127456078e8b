import { z } from 'zod';
import { EVENT_KINDS, MECHANISMS, SEVERITIES, type DisruptionEvent } from '../detect/events.js';

const Count = z.number().int().nonnegative();

const EvidenceSchema = z.object({
  eligible: Count,
  down: Count,
  ratio: z.number().min(0),
  reasons: z.record(z.string(), Count),
  latency_ratio: z.number().nonnegative().optional(),
  asns: z.array(z.number().int().nonnegative()).optional(),
  categories: z.array(z.string()).optional(),
  targets: z.array(z.string()).optional(),
  blocks: z
    .object({ monitored: Count, up: Count, down: Count, uncertain: Count, ordinary_pct: z.number().nonnegative().nullable() })
    .optional(),
});

/**
 * One stored event snapshot. Keys are declared in DisruptionEvent field order, and zod's output
 * follows the declaration order, so `JSON.stringify(parse(x))` is the canonical line. Unknown
 * keys are stripped rather than rejected so a log written by a newer version still loads.
 */
export const DisruptionEventSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(EVENT_KINDS),
  country: z.string().min(1).nullable(),
  asn: z.number().int().nonnegative().nullable(),
  category: z.string().min(1).nullable(),
  mechanism: z.enum(MECHANISMS).nullable(),
  severity: z.enum(SEVERITIES),
  started_at: z.iso.datetime(),
  ended_at: z.iso.datetime().nullable(),
  summary: z.string(),
  evidence: EvidenceSchema,
  path: z.string().min(1).optional(),
  expected: z.string().min(1).optional(),
  maintenance: z.string().min(1).optional(),
});

// Compile-time check that the schema and the public type agree in both directions.
type Parsed = z.infer<typeof DisruptionEventSchema>;
const _toType = (e: Parsed): DisruptionEvent => e;
const _fromType = (e: DisruptionEvent): Parsed => e;
void _toType;
void _fromType;

/** Parses a candidate event; returns a fresh canonical copy or the zod error's first message. */
export function parseEvent(value: unknown): { ok: true; event: DisruptionEvent } | { ok: false; message: string } {
  const r = DisruptionEventSchema.safeParse(value);
  if (r.success) return { ok: true, event: r.data };
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return { ok: false, message: `${where}${issue?.message ?? 'invalid event'}` };
}
