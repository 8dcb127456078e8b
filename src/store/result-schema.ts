import { z } from 'zod';
import { TARGET_KINDS } from '../config/schema.js';
import { FAILURE_REASONS, PHASES } from '../probers/reasons.js';
import type { ProbeResult } from '../probers/types.js';

const Seconds = z.number().nonnegative();

/**
 * One recorded ProbeResult. Checks the contract of types.ts: `reason` is null exactly when ok,
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
  })
  .refine((r) => r.ok === (r.reason === null), { message: 'reason must be null exactly when ok', path: ['reason'] });

// Compile-time check that the schema and the public type agree in both directions.
type Parsed = z.infer<typeof ProbeResultSchema>;
const _toType = (r: Parsed): ProbeResult => r;
const _fromType = (r: ProbeResult): Parsed => r;
void _toType;
void _fromType;
