import { z } from 'zod';
import { TARGET_KINDS } from '../config/schema.js';
import { FAILURE_REASONS, PHASES } from '../probers/reasons.js';
import type { ProbeResult } from '../probers/types.js';

const Seconds = z.number().nonnegative();

/**
 * The vantage a result was recorded at (its config's `vantage:`), written on every line since
 * 2026-12-08 so that `replay` credits the events to the vantage that saw them. Older lines have
 * none. Unknown keys are stripped, as for the result.
 */
export const RecordedVantageSchema = z.object({
  id: z.string().min(1),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an upper-case ISO 3166-1 alpha-2 code').optional(),
  asn: z.number().int().positive().optional(),
});

export type RecordedVantage = z.infer<typeof RecordedVantageSchema>;

/** One line of results.jsonl: a ProbeResult and, on lines recorded since the field exists, its vantage. */
export type RecordedResult = ProbeResult & { vantage?: RecordedVantage };

/**
 * One recorded ProbeResult (with its vantage, when the line carries one). Checks the contract of types.ts: `reason` is null exactly when ok,
 * and `total` is always present. Unknown keys are stripped rather than rejected so a recording
 * made by a newer version still replays.
 */
export const ProbeResultSchema = z
  .object({
    target: z.string().min(1),
    kind: z.enum(TARGET_KINDS),
    ok: z.boolean(),
    reason: z.enum(FAILURE_REASONS).nullable(),
    phases: z.partialRecord(z.enum(PHASES), Seconds).refine((p) => p.total !== undefined, { message: 'phases.total is missing' }),
    ip: z.string().nullable(),
    at: z.number().int().nonnegative(),
    status: z.number().int().min(100).max(999).optional(),
    cert_expiry: z.number().optional(),
    detail: z.string().optional(),
    confirm: z.boolean().optional(),
    vantage: RecordedVantageSchema.optional(),
  })
  .refine((r) => r.ok === (r.reason === null), { message: 'reason must be null exactly when ok', path: ['reason'] });

// Compile-time check that the schema and the public type agree in both directions.
type Parsed = z.infer<typeof ProbeResultSchema>;
const _toType = (r: Parsed): RecordedResult => r;
const _fromType = (r: RecordedResult): Parsed => r;
void _toType;
void _fromType;
