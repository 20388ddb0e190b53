// Schedules per vintage on the real dev server: the vintage is resolved when
// the schedule fires, recorded in the session's memo and search attributes;
// a second fire while the session runs (even after it continued as new) is
// skipped; a vintage whose category is missing ends as one clear failure.
import { WorkflowFailedError } from '@temporalio/client';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchedule, describeSchedule } from '../client/schedules';
import { validateScheduledSessionInput } from '../client/session-input';
import { ArchiveCategoryId, ArchiveVintage } from '../workflows/search-attributes';
import type { SessionProgress } from '../workflows/session-progress';
import type { ResolvedVintage } from '../workflows/types';
import { archiverCli, cliFailure, startStack, temporalCli, until, type Stack } from './harness';

const ZONE = 'Europe/Paris';

describe('schedules per vintage', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 10, latency: { fixedSeconds: 0.2, secondsPerMB: 0, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const target = () => ['--source-site', 'prod', '--target-site', 'archive', '--target-category', String(stack.archivesCategoryId)];

  it('resolves the vintage when it fires, runs its session, and skips a second fire while that session runs', async () => {
    // The rule names the academic year that ended `yearsBack` years ago; pick the one that makes 2024-2025 today.
    const now = DateTime.now().setZone(ZONE);
    const yearsBack = (now.month >= 9 ? now.year : now.year - 1) - 2024;
    const scheduleId = `vintage-prod-${Date.now()}`;
    const input = validateScheduledSessionInput(
      {
        scheduleId,
        sourceSiteId: 'prod',
        targetSiteId: 'archive',
        targetCategoryId: stack.archivesCategoryId,
        includeSubcategories: true,
        mirrorSubcategories: true,
        concurrency: 2,
        deleteSource: true,
        // Rolls over every 3 starts: the overlap check must follow the session across its runs.
        continueAsNewAfter: 3,
        vintageRule: { pattern: '{yearStart}-{yearEnd}', yearsBack, match: 'idnumber', timezone: ZONE },
      },
      stack.config,
    );
    await createSchedule(stack.client, stack.config, input, { yearly: '07-01 20:00', timezone: ZONE });
    const { upcoming } = await describeSchedule(stack.client, scheduleId);
    expect(new Date(upcoming[0].at).toISOString()).toBe(
      DateTime.fromObject({ year: now.month >= 7 ? now.year + 1 : now.year, month: 7, day: 1, hour: 20 }, { zone: ZONE })
        .toUTC()
        .toISO({ suppressMilliseconds: false }),
    );

    await archiverCli(stack, ['schedule', 'trigger', scheduleId]);
    const running = await until(
      () => describeSchedule(stack.client, scheduleId),
      (d) => d.description.info.runningActions.length === 1,
    );
    const workflowId = running.description.info.runningActions[0].workflow.workflowId;
    expect(workflowId.startsWith(`archive-session/${scheduleId}-`)).toBe(true);
    const runs = async () => {
      const list: string[] = [];
      for await (const w of stack.client.workflow.list({ query: `WorkflowId="${workflowId}"` })) list.push(w.status.name);
      return list;
    };
    // Rolled over once, and still running.
    await until(runs, (r) => r.length >= 2 && r.includes('RUNNING'));

    await archiverCli(stack, ['schedule', 'trigger', scheduleId]);
    const after = await until(
      () => describeSchedule(stack.client, scheduleId),
      (d) => d.description.info.numActionsSkippedOverlap === 1,
    );
    expect(after.description.info.numActionsTaken).toBe(1);

    const result: SessionProgress = await stack.client.workflow.getHandle(workflowId).result();
    expect(result.counts).toEqual({ succeeded: 10, failed: 0, skipped: 0, cancelled: 0 });
    expect(stack.vintageCourseIds()).toEqual([]);
    // Its courses belong to the session named after the workflow.
    const session = workflowId.slice('archive-session/'.length);
    expect(await stack.catalog.listSession(session)).toHaveLength(10);

    // The last run still carries what the first one resolved.
    const described = await stack.client.workflow.getHandle(workflowId).describe();
    const resolved = described.memo?.resolved as ResolvedVintage;
    expect(resolved).toMatchObject({
      scheduleId,
      vintage: '2024-2025',
      categoryId: stack.vintageCategoryId,
      categoryName: 'Year 2024-2025',
    });
    expect(described.typedSearchAttributes.get(ArchiveVintage)).toBe('2024-2025');
    expect(described.typedSearchAttributes.get(ArchiveCategoryId)).toBe(stack.vintageCategoryId);
    // Operators find a schedule's sessions by the server's own attribute.
    const listed = await temporalCli(['workflow', 'list', '--query', `TemporalScheduledById="${scheduleId}"`, '--output', 'json']);
    expect(new Set((JSON.parse(listed) as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId))).toEqual(
      new Set([workflowId]),
    );

    const text = await archiverCli(stack, ['schedule', 'describe', scheduleId]);
    expect(text).toContain('skipped 1 (a session was still running)');
    expect(text).toContain(workflowId);
    await archiverCli(stack, ['schedule', 'pause', scheduleId, '--note', 'exams week']);
    expect((await describeSchedule(stack.client, scheduleId)).description.state).toMatchObject({ paused: true, note: 'exams week' });
    // Its next fire in its own zone, as describe shows it: 1 July, 20:00 Paris time.
    expect(await archiverCli(stack, ['schedule', 'list'])).toMatch(
      new RegExp(`${scheduleId}\\s+paused\\s+\\w{3} \\d{4}-07-01 20:00 ${ZONE}`),
    );
    await archiverCli(stack, ['schedule', 'unpause', scheduleId]);
    await archiverCli(stack, ['schedule', 'delete', scheduleId]);
    expect(await archiverCli(stack, ['schedule', 'list'])).not.toContain(scheduleId);
  });

  it('a vintage whose category does not exist ends as one failed session that says why, not a loop', async () => {
    const scheduleId = `missing-${Date.now()}`;
    await archiverCli(stack, [
      'schedule',
      'create',
      scheduleId,
      ...target(),
      '--vintage-from',
      '2000-01-01=1999-2000',
      '--match',
      'idnumber',
      '--yearly',
      '07-01 20:00',
      '--timezone',
      ZONE,
    ]);
    await archiverCli(stack, ['schedule', 'trigger', scheduleId]);
    const fired = await until(
      () => describeSchedule(stack.client, scheduleId),
      (d) => d.description.info.recentActions.length === 1,
    );
    const handle = stack.client.workflow.getHandle(fired.description.info.recentActions[0].action.workflow.workflowId);
    const failure = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(
      /schedule missing-\d+ fired at .* for vintage 1999-2000: no category with idnumber "1999-2000" on prod: create it/,
    );
    expect((await handle.describe()).status.name).toBe('FAILED');
    // One workflow task, no failed ones: it did not retry itself in a loop.
    const history = await handle.fetchHistory();
    expect(history.events!.filter((e) => e.workflowTaskFailedEventAttributes)).toHaveLength(0);
    expect((await describeSchedule(stack.client, scheduleId)).description.state.paused).toBe(false);
    await archiverCli(stack, ['schedule', 'delete', scheduleId]);
  });

  it('refuses a rule that names no year, before creating anything', async () => {
    const err = await cliFailure(
      archiverCli(stack, ['schedule', 'create', 'bad-rule', ...target(), '--pattern', 'Archives', '--yearly', '07-01 20:00']),
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain('vintageRule.pattern: "Archives" names no year; use {yearStart}');
    const ids: string[] = [];
    for await (const s of stack.client.schedule.list()) ids.push(s.scheduleId);
    expect(ids).not.toContain('bad-rule');
  });

  it('refuses a parent or target category that does not exist, asked of the sites before creating anything', async () => {
    const missing = 987654;
    const err = await cliFailure(
      archiverCli(stack, [
        'schedule',
        'create',
        'no-such-parent',
        '--source-site',
        'prod',
        '--target-site',
        'archive',
        '--target-category',
        String(missing),
        '--pattern',
        '{yearStart}-{yearEnd}',
        '--parent-category',
        String(missing),
        '--yearly',
        '07-01 20:00',
      ]),
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain(`--parent-category: category ${missing} does not exist on prod; give the id of an existing category`);
    expect(err?.stderr).toContain(`--target-category: category ${missing} does not exist on archive`);
    const ids: string[] = [];
    for await (const s of stack.client.schedule.list()) ids.push(s.scheduleId);
    expect(ids).not.toContain('no-such-parent');
  });
});
