// Teachers keep working while their course is archived: nothing is deleted
// unless an archive of the course as it is then is verified (issue 19).
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities';
import { marksArchiveOf } from '../activities/restore';
import { liveFingerprint } from '../activities/source-fingerprint';
import { Sites } from '../activities/sites';
import { sessionStatus, startSession } from '../client/sessions';
import { teacherEdit } from '../simulator/teacher-edits';
import type { PhaseRequest } from '../workflows/types';
import { startStack, until, type Stack } from './harness';

describe('a course its teachers edit while it is archived', () => {
  let stack: Stack;
  /** The course edited during the first session. */
  let editedDuring: number;
  beforeAll(async () => {
    stack = await startStack({ courses: 3 });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const copiesOf = (id: number) => stack.sim.sites.archive.store.data.courses.filter((c) => marksArchiveOf(c.idnumber, 'prod', id));

  it('is archived again when the edit shows at verification: its archive is of the edited course, and the first copy goes', async () => {
    const archive = stack.sim.sites.archive;
    archive.gates.close('restore_backup.php');
    const input = stack.sessionInput({ deleteSource: false, concurrency: 1 });
    const handle = await startSession(stack.client, stack.config, input);
    await until(
      async () => archive.gates.waiting('restore_backup.php'),
      (n) => n === 1,
    );
    [{ courseId: editedDuring }] = (await sessionStatus(stack.client, input.session)).runningCourses;
    teacherEdit(stack.sim.sites.prod.store, editedDuring, 'settings');
    archive.gates.open('restore_backup.php');
    const result = await handle.result();

    expect(result.counts).toMatchObject({ succeeded: 3, failed: 0 });
    const [row, ...more] = await stack.catalog.versions('prod', editedDuring);
    expect(more).toEqual([]);
    expect(row.fullname).toMatch(/\(edited\)$/);
    expect(copiesOf(editedDuring).map((c) => [c.id, c.fullname])).toEqual([[row.targetCourseId, row.fullname]]);
    const ledger = (await stack.catalog.ledgerOf('prod', editedDuring)).map((e) => ({ event: e.event, ...JSON.parse(e.detail) }));
    expect(ledger.filter((e) => e.event === 'backupCourse')).toHaveLength(2);
    expect(ledger).toContainEqual(
      expect.objectContaining({ event: 'verifyArchive', sourceChanged: 'its settings changed during its archive (found at verification)' }),
    );
  });

  it('is not deleted when it changed since its verification: the last check reads the live course', async () => {
    const [id] = stack.vintageCourseIds().filter((c) => c !== editedDuring);
    const row = (await stack.catalog.find('prod', id))!;
    const activities = createActivities(stack.config, stack.catalog);
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'check', runId: 'this-run' } });
    const req: PhaseRequest = {
      course: {
        session: 'check',
        vintage: '2024-2025',
        courseId: id,
        sourceSiteId: 'prod',
        targetSiteId: 'archive',
        targetCategoryId: stack.archivesCategoryId,
        sourceRootCategoryId: stack.vintageCategoryId,
        mirrorSubcategories: false,
        deleteSource: true,
        failureHoldHours: 0,
      },
      // Verified in this run, of the course as its fingerprint says.
      facts: { verified: true, verifiedInRun: 'this-run', sourceFingerprint: row.sourceFingerprint!, archiveVersion: row.version },
    };
    teacherEdit(stack.sim.sites.prod.store, id, 'section');
    await expect(env.run(activities.deleteSourceCourse, req)).resolves.toEqual({
      sourceDeleted: false,
      sourceChanged: 'its sections changed during its archive (found before deleting it)',
    });
    expect(stack.vintageCourseIds()).toContain(id);
    // Without a fingerprint nothing proves the course unchanged: it stays too.
    const unproven = { ...req.facts };
    delete unproven.sourceFingerprint;
    await expect(env.run(activities.deleteSourceCourse, { ...req, facts: unproven })).resolves.toMatchObject({ sourceDeleted: false });
    expect(stack.vintageCourseIds()).toContain(id);
  });

  it('resumes an unchanged course from its archive, archives an edited one again as a new version, and only then deletes', async () => {
    // The course of the test above changed since its archive; the one edited during the first session did not.
    const changed = stack.vintageCourseIds().find((c) => c !== editedDuring)!;
    const before = new Map(
      await Promise.all(stack.vintageCourseIds().map(async (id) => [id, (await stack.catalog.find('prod', id))!] as const)),
    );
    expect(before.get(changed)!.sourceFingerprint).not.toBe(await liveFingerprint(new Sites(stack.config).moodle('prod'), changed));

    const result = await stack.runSession(stack.sessionInput({ deleteSource: true }));

    expect(result.counts).toMatchObject({ succeeded: 3, failed: 0 });
    expect(stack.vintageCourseIds()).toEqual([]);
    for (const [id, first] of before) {
      const versions = await stack.catalog.versions('prod', id);
      if (id === changed) {
        // The first archive is kept as it was (its source was kept then); the second is of the course as it was deleted.
        expect(versions.map((v) => [v.version, v.sourceDeleted, v.targetCourseId])).toEqual([
          [1, false, first.targetCourseId],
          [2, true, expect.any(Number)],
        ]);
        expect(versions[1].sourceFingerprint).not.toBe(first.sourceFingerprint);
        expect(
          copiesOf(id)
            .map((c) => c.id)
            .sort(),
        ).toEqual(versions.map((v) => v.targetCourseId).sort());
      } else {
        // Verified again in this run, then deleted: still version 1, still one copy.
        expect(versions.map((v) => [v.version, v.sourceDeleted, v.targetCourseId])).toEqual([[1, true, first.targetCourseId]]);
        expect(copiesOf(id)).toHaveLength(1);
      }
    }
    expect((await stack.catalog.verifyLedger()).problems).toEqual([]);
  });
});
