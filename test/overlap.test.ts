// One session per course (issue 19, point 4): a second session whose
// selection overlaps a running one is refused, naming it, or waits for it.
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marksArchiveOf } from '../activities/restore';
import { startSession } from '../client/sessions';
import { ArchiveStatus } from '../workflows/search-attributes';
import type { CourseFacts, CourseInput, CourseOutcome } from '../workflows/types';
import { startStack, until, type Stack } from './harness';

describe('two sessions on the same courses', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 4 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses the second (naming the first) or has it wait, and lets a session on other courses run', async () => {
    const archive = stack.sim.sites.archive;
    const prod = stack.sim.sites.prod.store;
    archive.gates.close('restore_backup.php');
    const first = stack.sessionInput({ deleteSource: false });
    const running = await startSession(stack.client, stack.config, first);
    await until(
      async () => archive.gates.waiting('restore_backup.php'),
      (n) => n >= 1,
    );

    // The whole category again: refused before it selects anything, naming the running session.
    const second = await startSession(stack.client, stack.config, stack.sessionInput({ deleteSource: true }));
    const refused = await second.result().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    expect(String((refused as WorkflowFailedError).cause?.message)).toMatch(
      new RegExp(`^session ${first.session} \\(running since .*\\) selects some of the same courses`),
    );

    // Past any session check (a race, a run started by hand): a second run of a course held by the first leaves
    // it to the first, naming it.
    const sub = prod.subtree(stack.vintageCategoryId).find((c) => c.id !== stack.vintageCategoryId && prod.coursesUnder(c.id).length)!;
    const held = prod.coursesUnder(sub.id)[0].id;
    const byHand = (name: string) =>
      stack.client.workflow.execute('archiveCourse', {
        taskQueue: stack.config.mainQueue,
        workflowId: `archive-course/${name}/${held}`,
        args: [
          {
            session: name,
            vintage: first.vintage,
            courseId: held,
            sourceSiteId: 'prod',
            targetSiteId: 'archive',
            targetCategoryId: stack.archivesCategoryId,
            sourceRootCategoryId: stack.vintageCategoryId,
            mirrorSubcategories: true,
            deleteSource: true,
            failureHoldHours: 0,
          } satisfies CourseInput,
        ],
      }) as Promise<CourseOutcome & { facts: CourseFacts }>;
    const left = await byHand(`by-hand-${Date.now()}`);
    expect(left).toMatchObject({ status: 'skipped' });
    expect(left.facts.skipReason).toBe(
      `archived by another run right now (archive-course/${first.session}/${held}): one run per course at a time`,
    );

    // A subcategory of it, told to wait: it waits, then finds its courses archived by the first.
    const waiting = await startSession(
      stack.client,
      stack.config,
      stack.sessionInput({ sourceCategoryId: sub.id, deleteSource: false, whenOverlapping: 'wait' }),
    );
    await until(
      async () => (await waiting.describe()).typedSearchAttributes.get(ArchiveStatus),
      (s) => s === 'waiting',
    );
    // Other courses (another category, none of these): not held up.
    const other = prod.data.categories.find(
      (c) => c.id !== stack.vintageCategoryId && !prod.subtree(stack.vintageCategoryId).some((x) => x.id === c.id),
    )!;
    // (Its end waits for a slot on the archive host, which the held restores fill: awaited after the gate opens.)
    const elsewhere = await startSession(
      stack.client,
      stack.config,
      stack.sessionInput({ sourceCategoryId: other.id, deleteSource: false }),
    );

    archive.gates.open('restore_backup.php');
    expect((await running.result()).counts).toMatchObject({ succeeded: 4, failed: 0 });
    expect(await elsewhere.result()).toMatchObject({ finished: true, total: 0 });
    const later = await waiting.result();
    expect(later.counts).toMatchObject({ succeeded: 0, skipped: prod.coursesUnder(sub.id).length, failed: 0 });
    for (const id of stack.vintageCourseIds())
      expect(archive.store.data.courses.filter((c) => marksArchiveOf(c.idnumber, 'prod', id))).toHaveLength(1);
  });
});
