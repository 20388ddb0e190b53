// Checks a session request before anything starts: shape, ranges, and that
// the sites it names exist in the config. Each error names the field.
import { z } from 'zod';
import type { ArchiverConfig } from '../workers/config';
import type { SessionInput } from '../workflows/types';

export const MAX_CONCURRENCY = 200;

const SessionInputSchema = z.object({
  session: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'use letters, digits, ".", "_" or "-" (it names staging folders and workflow IDs), e.g. "2024-2025"'),
  vintage: z.string().min(1, 'give the academic vintage, e.g. "2024-2025"'),
  sourceSiteId: z.string().min(1),
  sourceCategoryId: z.number({ error: 'must be the id of the source category (a positive integer)' }).int().positive('must be the id of the source category (a positive integer)'),
  includeSubcategories: z.boolean().default(true),
  targetSiteId: z.string().min(1),
  targetCategoryId: z.number({ error: 'must be the id of the target category (a positive integer)' }).int().positive('must be the id of the target category (a positive integer)'),
  mirrorSubcategories: z.boolean().default(true),
  concurrency: z.number().int().min(1, 'must be at least 1').max(MAX_CONCURRENCY, `must be at most ${MAX_CONCURRENCY}`).default(4),
  deleteSource: z.boolean({ error: 'say whether sources are deleted after verification: true or false' }),
  pageSize: z.number().int().min(1).max(1000).optional(),
  continueAsNewAfter: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000: a run must stay far below 2,000 pending children and 10,000 history events').optional(),
  failureHoldHours: z.number({ error: 'hours a failed course waits for retry or skip (0 closes it at once)' }).min(0, 'must be 0 or more').max(24 * 90, 'must be at most 2160 (90 days)').optional(),
}).strict();

export class SessionInputError extends Error {
  override readonly name = 'SessionInputError';
  constructor(readonly problems: string[]) {
    super(`Invalid session:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function validateSessionInput(raw: unknown, config: ArchiverConfig): SessionInput {
  const parsed = SessionInputSchema.safeParse(raw);
  if (!parsed.success) throw new SessionInputError(parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`));
  const input = parsed.data;
  const problems: string[] = [];
  const known = Object.keys(config.sites).join(', ');
  if (!config.sites[input.sourceSiteId]) problems.push(`sourceSiteId: unknown site "${input.sourceSiteId}"; the config has: ${known}`);
  if (!config.sites[input.targetSiteId]) problems.push(`targetSiteId: unknown site "${input.targetSiteId}"; the config has: ${known}`);
  if (input.sourceSiteId === input.targetSiteId) problems.push('targetSiteId: must differ from sourceSiteId (archiving moves courses to another platform)');
  if (problems.length) throw new SessionInputError(problems);
  return input;
}
