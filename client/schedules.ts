// Temporal Schedules, one per source category policy: each fires a session
// whose vintage is resolved when it fires (workflows/vintage.ts). Overlap
// SKIP, for the schedule's own fires and for manual triggers alike: two
// sessions of one policy never run at once.
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import { MONTHS, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleSpec } from '@temporalio/client';
import type { ArchiverConfig } from '../contract';
import type { archiveSession, checkCategories } from '../workflows';
import { needWorker } from './busy';
import type { ScheduledSessionInput } from '../workflows/types';
import { describeVintageRule, vintageAt } from '../workflows/vintage';
import { SessionInputError } from './session-input';
import { sessionWorkflowId } from '../contract';

/** When a schedule fires: once a year at a date and time ("07-01 20:00"), or a cron expression, in a time zone. */
export interface FireTimes {
  yearly?: string;
  cron?: string;
  timezone: string;
}

export function scheduleSpec(times: FireTimes): ScheduleSpec {
  if ((times.yearly === undefined) === (times.cron === undefined)) {
    throw new SessionInputError([
      `--yearly/--cron: give exactly one, e.g. --yearly "07-01 20:00" (every 1 July at 20:00) or --cron "0 20 1 7 *"`,
    ]);
  }
  if (times.cron !== undefined) {
    const problem = cronProblem(times.cron);
    if (problem) throw new SessionInputError([`--cron: "${times.cron}" ${problem}`]);
    return { cronExpressions: [times.cron.trim()], timezone: times.timezone };
  }
  const m = /^(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(times.yearly!.trim());
  const [month, day, hour, minute] = m ? m.slice(1).map(Number) : [];
  if (!m || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) {
    throw new SessionInputError([`--yearly: "${times.yearly}" is not a yearly time; write "MM-DD HH:MM", e.g. "07-01 20:00"`]);
  }
  // A day the month never has would never fire; 29 February fires one year in four.
  if (!DateTime.local(2023, month, day).isValid)
    throw new SessionInputError([
      `--yearly: "${times.yearly}" never or rarely comes (${month === 2 && day === 29 ? 'only in leap years' : 'no such day'}); pick a day every year has, e.g. "${String(month).padStart(2, '0')}-${Math.min(day, 28)} ${m[3]}:${m[4]}"`,
    ]);
  return {
    calendars: [{ month: MONTHS[month - 1], dayOfMonth: day, hour, minute, comment: `every ${times.yearly}` }],
    timezone: times.timezone,
  };
}

/** Why the server would refuse this cron expression, or why it would never fire; undefined when it is fine. Five
 * fields (minute hour day month weekday) or @yearly/@monthly/@weekly/@daily/@hourly, checked before any call. */
function cronProblem(expression: string): string | undefined {
  const e = expression.trim();
  if (/^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(e)) return undefined;
  if (e.split(/\s+/).length !== 5)
    return 'is not a cron expression of five fields (minute hour day month weekday), e.g. "0 20 1 7 *", or @yearly; or use --yearly "07-01 20:00"';
  try {
    CronExpressionParser.parse(e).next();
    return undefined;
  } catch (err) {
    return `is not a cron expression that can fire (${(err as Error).message}); e.g. "0 20 1 7 *" for every 1 July at 20:00`;
  }
}

/** The categories a schedule names (its parent category, its target category) exist, asked of the main queue's
 * worker before the schedule is created: a typo is refused now, not at the first fire. */
export async function refuseMissingCategories(client: Client, config: ArchiverConfig, input: ScheduledSessionInput): Promise<void> {
  const checks = [
    ...(input.vintageRule.parentCategoryId !== undefined
      ? [{ field: '--parent-category', siteId: input.sourceSiteId, categoryId: input.vintageRule.parentCategoryId }]
      : []),
    ...(input.targetCategoryId !== undefined && config.sites[input.targetSiteId]
      ? [{ field: '--target-category', siteId: input.targetSiteId, categoryId: input.targetCategoryId }]
      : []),
  ];
  if (!checks.length) return;
  await needWorker(client, config.mainQueue, 30, 'create the schedule again');
  const problems = await client.workflow.execute<typeof checkCategories>('checkCategories', {
    workflowId: `archive-check-categories/${input.scheduleId}/${new Date().toISOString()}`,
    taskQueue: config.mainQueue,
    workflowExecutionTimeout: '5m',
    args: [checks],
  });
  if (problems.length) throw new SessionInputError(problems);
}

export async function createSchedule(
  client: Client,
  config: ArchiverConfig,
  input: ScheduledSessionInput,
  times: FireTimes,
  note?: string,
) {
  return client.schedule.create({
    scheduleId: input.scheduleId,
    spec: scheduleSpec(times),
    action: {
      type: 'startWorkflow',
      workflowType: 'archiveSession',
      // The server appends the fire time: archive-session/<scheduleId>-<time>, the session's name.
      workflowId: sessionWorkflowId(input.scheduleId),
      taskQueue: config.mainQueue,
      args: [input] as Parameters<typeof archiveSession>,
      staticSummary: `Archive session started by schedule ${input.scheduleId}: ${describeVintageRule(input.vintageRule)}, ${input.sourceSiteId} → ${input.targetSiteId} category ${input.targetCategoryId}`,
    },
    // A yearly fire missed while the cluster was down still runs when it is back (within 30 days), not a year later.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '30 days', pauseOnFailure: false },
    memo: { archiver: { rule: describeVintageRule(input.vintageRule), sourceSiteId: input.sourceSiteId } },
    state: { note },
  });
}

/** A manual fire, skipped like a timed one if a session of this schedule still runs. */
export const triggerSchedule = (client: Client, scheduleId: string) =>
  client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);

export interface ScheduleRow {
  scheduleId: string;
  paused: boolean;
  rule: string;
  next: string | null;
  /** The zone its times are written in (its spec's), in which its next fire is shown. */
  timezone: string;
  lastSession: string | null;
}

/** Our schedules: those that start archive sessions. */
export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const s of client.schedule.list()) {
    if (s.action?.workflowType !== 'archiveSession') continue;
    const last = s.info.recentActions.at(-1);
    rows.push({
      scheduleId: s.scheduleId,
      paused: s.state.paused,
      rule: (s.memo?.archiver as { rule?: string } | undefined)?.rule ?? '',
      next: s.info.nextActionTimes[0]?.toISOString() ?? null,
      timezone: s.spec?.timezone || 'UTC',
      lastSession: last ? last.action.workflow.workflowId : null,
    });
  }
  return rows.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export interface ScheduleDetails {
  description: ScheduleDescription;
  input: ScheduledSessionInput;
  /** The next fire times, each with the vintage its rule resolves to then. */
  upcoming: { at: string; vintage: string | null }[];
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleDetails> {
  const description = await client.schedule.getHandle(scheduleId).describe();
  const input = description.action.args?.[0] as ScheduledSessionInput;
  const upcoming = description.info.nextActionTimes.map((t) => ({
    at: t.toISOString(),
    vintage: vintageAt(input.vintageRule, t.getTime()),
  }));
  return { description, input, upcoming };
}
