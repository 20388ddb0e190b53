// Checks a session request before anything starts: shape, ranges, and that
// the sites it names exist in the config. Each error names the field.
import { z } from 'zod';
import type { ArchiverConfig } from '../contract';
import { PHASE_NAMES } from '../workflows/phases';
import { type ScheduledSessionInput, type SessionInput } from '../workflows/types';
import { vintageRuleProblems } from '../workflows/vintage';
import { windowSpecProblems, type WindowRule } from '../workflows/windows';
import { MAX_CONCURRENCY, RUN_EVENTS_BEFORE_ROLL_OVER, SESSION_NAME } from '../contract';

const PhaseCostSchema = z
  .object({
    fixedSeconds: z.number().min(0, 'must be 0 or more seconds'),
    secondsPerMB: z.number().min(0, 'must be 0 or more seconds per MB'),
    secondsPerActivity: z.number().min(0, 'must be 0 or more seconds per activity'),
  })
  .partial()
  .strict();

const WindowsSchema = z
  .object(
    {
      timezone: z.string({ error: 'name the time zone of the windows, e.g. "Europe/Paris"' }),
      windows: z.array(
        z
          .object({
            days: z.string({ error: 'name the days the window opens, e.g. "mon-fri"' }),
            from: z.string({ error: 'give the opening time, e.g. "19:00"' }),
            to: z.string({ error: 'give the closing time, e.g. "07:00"' }),
          })
          .strict(),
        { error: 'list the windows, e.g. [{ "days": "mon-fri", "from": "19:00", "to": "07:00" }]' },
      ),
    },
    {
      error:
        'describe the allowed windows: { "timezone": "Europe/Paris", "windows": [{ "days": "mon-fri", "from": "19:00", "to": "07:00" }] }',
    },
  )
  .strict();

const categoryIdSchema = z
  .number({ error: 'must be a category id (a positive integer)' })
  .int()
  .positive('must be a category id (a positive integer)');
const patternsSchema = z
  .array(z.string().min(1, 'an empty pattern would match nothing; remove it').max(255), {
    error: 'list patterns, e.g. ["*-SANDBOX", "TEST-*"]',
  })
  .optional();

const SelectionSchema = z
  .object(
    {
      moreCategoryIds: z.array(categoryIdSchema).optional(),
      courseIds: z
        .array(z.number({ error: 'must be a course id (a positive integer)' }).int().positive('must be a course id (a positive integer)'))
        .max(10_000, 'at most 10000 single courses; archive their categories instead')
        .optional(),
      excludeShortnames: patternsSchema,
      excludeIdnumbers: patternsSchema,
    },
    { error: 'describe what to add or leave out: { "moreCategoryIds": [40], "courseIds": [1234], "excludeShortnames": ["*-SANDBOX"] }' },
  )
  .strict();

/** Comma- or space-separated positive integers, as the CLI takes lists of ids. */
export function parseIdList(option: string, text: string): number[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const bad = parts.filter((p) => !/^\d+$/.test(p) || Number(p) < 1);
  if (bad.length || !parts.length) throw new SessionInputError([`${option}: "${text}" is not a list of ids; write them like "1234,1240"`]);
  return parts.map(Number);
}

const SessionInputSchema = z
  .object({
    session: z
      .string()
      .regex(SESSION_NAME, 'use letters, digits, ".", "_" or "-" (it names staging folders and workflow IDs), e.g. "2024-2025"'),
    vintage: z
      .string()
      .min(1, 'give the academic vintage, e.g. "2024-2025"')
      .max(64, 'at most 64 characters: a vintage is a label such as "2024-2025"')
      .refine(
        (v) => !/[/\\]|\.\.|[\u0000-\u001f\u007f]/.test(v),
        'a label such as "2024-2025": no "/", "\\", ".." or control characters (it names folders and search attributes)',
      ),
    sourceSiteId: z.string().min(1),
    sourceCategoryId: z
      .number({ error: 'must be the id of the source category (a positive integer)' })
      .int()
      .positive('must be the id of the source category (a positive integer)'),
    includeSubcategories: z.boolean().default(true),
    selection: SelectionSchema.optional(),
    targetSiteId: z.string().min(1),
    /** Required for a Moodle target; a cold storage has none. */
    targetCategoryId: z
      .number({ error: 'must be the id of the target category (a positive integer)' })
      .int()
      .positive('must be the id of the target category (a positive integer)')
      .optional(),
    mirrorSubcategories: z.boolean().default(true),
    concurrency: z.number().int().min(1, 'must be at least 1').max(MAX_CONCURRENCY, `must be at most ${MAX_CONCURRENCY}`).default(4),
    maxConcurrency: z.number().int().min(1, 'must be at least 1').max(MAX_CONCURRENCY, `must be at most ${MAX_CONCURRENCY}`).optional(),
    windows: WindowsSchema.optional(),
    clock: z
      .object({
        speed: z.number().min(1, 'must be 1 (real time) or more').max(1_000_000, 'must be at most 1000000'),
        startAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. "2026-11-30T18:00:00+01:00"' }).optional(),
      })
      .strict()
      .optional(),
    prediction: z
      .object({
        phaseCosts: z
          .strictObject(Object.fromEntries(PHASE_NAMES.map((p) => [p, PhaseCostSchema.optional()])), {
            error: (issue) =>
              issue.code === 'unrecognized_keys'
                ? `${issue.keys.map((k) => `"${k}"`).join(', ')} is not a phase; the phases are ${PHASE_NAMES.join(', ')}`
                : undefined,
          })
          .optional(),
        safetyMargin: z
          .number()
          .min(0, 'must be 0 or more (0.25 adds a quarter to each prediction)')
          .max(10, 'must be at most 10')
          .optional(),
      })
      .strict()
      .optional(),
    deleteSource: z.boolean({ error: 'say whether sources are deleted after verification: true or false' }),
    pageSize: z.number().int().min(1).max(1000).optional(),
    continueAsNewAfter: z
      .number()
      .int()
      .min(1, 'must be at least 1')
      .max(1000, 'must be at most 1000: a run must stay far below 2,000 pending children and 10,000 history events')
      .optional(),
    continueAsNewAtEvents: z
      .number()
      .int()
      .min(100, 'must be at least 100')
      .max(RUN_EVENTS_BEFORE_ROLL_OVER, `must be at most ${RUN_EVENTS_BEFORE_ROLL_OVER}: a run must stay under 2,000 history events`)
      .optional(),
    failureHoldHours: z
      .number({ error: 'hours a failed course waits for retry or skip (0 closes it at once)' })
      .min(0, 'must be 0 or more')
      .max(24 * 90, 'must be at most 2160 (90 days)')
      .optional(),
    whenOverlapping: z
      .enum(['refuse', 'wait'], {
        error:
          'what a session does when a running session selects some of its courses: "refuse" (it stops at once) or "wait" (until that one ends)',
      })
      .optional(),
  })
  .strict();

export class SessionInputError extends Error {
  override readonly name = 'SessionInputError';
  constructor(readonly problems: string[]) {
    super(`Invalid session:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** A window as the CLI takes it: "mon-fri 19:00-07:00". */
export function parseWindowOption(text: string): WindowRule {
  const m = /^\s*(\S+)\s+(\S+)-(\S+)\s*$/.exec(text);
  if (!m)
    throw new SessionInputError([
      `--window: "${text}" is not a window; write days then hours, e.g. "mon-fri 19:00-07:00" or "sat-sun 00:00-24:00"`,
    ]);
  return { days: m[1], from: m[2], to: m[3] };
}

/** What is wrong beyond the shape: sites the config does not have, settings that contradict each other. */
function settingProblems(
  input: Omit<SessionInput, 'session' | 'vintage' | 'sourceCategoryId' | 'targetCategoryId'> & {
    sourceCategoryId?: number;
    targetCategoryId?: number;
  },
  config: ArchiverConfig,
): string[] {
  const problems: string[] = [];
  const known = Object.keys(config.sites).join(', ');
  const targets = [...Object.keys(config.sites), ...Object.keys(config.storages)].join(', ');
  if (!config.sites[input.sourceSiteId]) problems.push(`sourceSiteId: unknown site "${input.sourceSiteId}"; the config has: ${known}`);
  if (!config.sites[input.targetSiteId] && !config.storages[input.targetSiteId]) {
    problems.push(`targetSiteId: unknown site or storage "${input.targetSiteId}"; the config has: ${targets}`);
  }
  if (config.sites[input.targetSiteId] && !input.targetCategoryId)
    problems.push(`targetCategoryId: missing; name the category of ${input.targetSiteId} that receives the courses`);
  if (config.storages[input.targetSiteId] && input.targetCategoryId)
    problems.push(`targetCategoryId: ${input.targetSiteId} is a cold storage, which has no categories; leave it out`);
  if (input.sourceSiteId === input.targetSiteId)
    problems.push('targetSiteId: must differ from sourceSiteId (archiving moves courses to another platform)');
  if (input.maxConcurrency !== undefined && input.concurrency > input.maxConcurrency) {
    problems.push(`concurrency: ${input.concurrency} is above maxConcurrency (${input.maxConcurrency}); lower it or raise maxConcurrency`);
  }
  if (input.windows) problems.push(...windowSpecProblems(input.windows, 'windows'));
  if (input.sourceCategoryId !== undefined && input.selection?.moreCategoryIds?.includes(input.sourceCategoryId)) {
    problems.push(`selection.moreCategoryIds: ${input.sourceCategoryId} is already the session's category; remove it from the list`);
  }
  if (input.clock && !input.windows) problems.push('clock: a rehearsal clock only makes sense with windows; add "windows" or drop "clock"');
  return problems;
}

const issuesOf = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);

export function validateSessionInput(raw: unknown, config: ArchiverConfig): SessionInput {
  const parsed = SessionInputSchema.safeParse(raw);
  if (!parsed.success) throw new SessionInputError(issuesOf(parsed.error));
  const problems = settingProblems(parsed.data, config);
  if (problems.length) throw new SessionInputError(problems);
  return { ...parsed.data, targetCategoryId: parsed.data.targetCategoryId ?? 0 };
}

const VintageRuleSchema = z
  .object({
    pattern: z.string().min(1).optional(),
    yearsBack: z.number().optional(),
    startMonth: z.number().optional(),
    list: z.array(z.object({ from: z.string(), vintage: z.string() }).strict()).optional(),
    match: z.enum(['name', 'idnumber'], { error: 'say which category field holds the vintage: "name" or "idnumber"' }).default('name'),
    parentCategoryId: categoryIdSchema.optional(),
    timezone: z.string({ error: 'name the time zone the rule reads dates in, e.g. "Europe/Paris"' }),
  })
  .strict();

const ScheduledSessionInputSchema = SessionInputSchema.omit({ session: true, vintage: true, sourceCategoryId: true })
  .extend({
    scheduleId: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$/,
        'use letters, digits, ".", "_" or "-", e.g. "vintage-prod" (it prefixes its sessions\' names)',
      ),
    vintageRule: VintageRuleSchema,
  })
  .strict();

export function validateScheduledSessionInput(raw: unknown, config: ArchiverConfig): ScheduledSessionInput {
  const parsed = ScheduledSessionInputSchema.safeParse(raw);
  if (!parsed.success) throw new SessionInputError(issuesOf(parsed.error));
  const problems = [...settingProblems(parsed.data, config), ...vintageRuleProblems(parsed.data.vintageRule)];
  if (problems.length) throw new SessionInputError(problems);
  return { ...parsed.data, targetCategoryId: parsed.data.targetCategoryId ?? 0 };
}
