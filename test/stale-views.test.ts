// Stale views (issue 19, point 5): a session reads the source as it is when it
// runs, not another session's course list, and an archive deleted from its
// target since is noticed at prepare and made again, with a note.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marksArchiveOf } from '../activities/restore';
import { courseWorkflowId } from '../contract';
import type { CourseFacts } from '../workflows/types';
import { startStack, type Stack } from './harness';

describe('a session after another on the same courses', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 3 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('sees a course added since, and archives again a course whose archive was deleted from the target', async () => {
    const first = await stack.runSession(stack.sessionInput({ deleteSource: false }));
    expect(first.counts).toMatchObject({ succeeded: 3, failed: 0 });
    const prod = stack.sim.sites.prod.store;
    const archive = stack.sim.sites.archive.store;
    const [gone, ...kept] = stack.vintageCourseIds();
    // Someone deletes one archived copy on the archive site, and a teacher adds a course to the vintage.
    const copy = archive.data.courses.findIndex((c) => marksArchiveOf(c.idnumber, 'prod', gone));
    archive.data.courses.splice(copy, 1);
    archive.save();
    const added = { ...structuredClone(prod.course(kept[0])!), id: prod.newId('course'), shortname: 'ADDED-LATE', idnumber: '' };
    prod.data.courses.push(added);
    prod.save();

    // At once: within the time a session reuses its own course list.
    const input = stack.sessionInput({ deleteSource: true });
    const second = await stack.runSession(input);

    expect(second.counts).toMatchObject({ succeeded: 4, failed: 0 });
    expect(stack.vintageCourseIds()).toEqual([]);
    expect((await stack.catalog.versions('prod', added.id)).map((v) => v.version)).toEqual([1]);
    const versions = await stack.catalog.versions('prod', gone);
    expect(versions.map((v) => [v.version, v.sourceDeleted])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(archive.data.courses.filter((c) => marksArchiveOf(c.idnumber, 'prod', gone)).map((c) => c.id)).toEqual([
      versions[1].targetCourseId,
    ]);
    const { facts } = (await stack.client.workflow.getHandle(courseWorkflowId(input.session, gone)).result()) as { facts: CourseFacts };
    expect(facts.note).toBe(
      `archived again as version 2: its archive version 1 (archive course ${versions[0].targetCourseId}) is no longer on archive (deleted there, or replaced); version 1 stays in the catalog`,
    );
    for (const id of kept) expect((await stack.catalog.versions('prod', id)).map((v) => [v.version, v.sourceDeleted])).toEqual([[1, true]]);
  });
});
