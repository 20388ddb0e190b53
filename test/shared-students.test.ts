// Courses that share students, restored two at a time into one site: the
// simulated Moodle, like the real one, fails the second restore on the user
// the first is creating and leaves its placeholder. The archiver retries that
// restore, removes the placeholder once no other restore runs there, and
// every copy ends with its students, with no placeholder left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '../client/sessions';
import { marksArchiveOf } from '../activities/restore';
import { startStack, until, type Stack } from './harness';

describe('courses sharing students, restored two at a time', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 4, latency: { fixedSeconds: 0.5, secondsPerMB: 0, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('collide on a shared user, are retried, and leave every copy enrolled and no placeholder', async () => {
    const prod = stack.sim.sites.prod.store;
    const archive = stack.sim.sites.archive;
    const students = new Map<number, string[]>();
    for (const c of prod.coursesUnder(stack.vintageCategoryId)) {
      c.students = ['ann', 'bob', `only-${c.id}`];
      students.set(c.id, c.students);
    }
    prod.data.users = [...new Set([...students.values()].flat())];
    prod.save();
    // The rig lets four restores run at once into the archive site (restoresAtOnce 4): hold the first one
    // once it is creating the shared students, until another restore has met them.
    archive.gates.close('restore_backup.php:users-created');
    const input = stack.sessionInput({ deleteSource: true, concurrency: 4 });
    const handle = await startSession(stack.client, stack.config, input);
    await until(
      async () => archive.restoreCollisions,
      (n) => n >= 1,
    );
    archive.gates.open('restore_backup.php:users-created');

    const result = await handle.result();
    expect(result.counts).toMatchObject({ succeeded: 4, failed: 0 });
    expect(archive.restoreCollisions).toBeGreaterThanOrEqual(1);
    const copies = archive.store.data.courses;
    expect(copies.filter((c) => /^restoring(_\d+)?$/.test(c.shortname))).toEqual([]);
    for (const [id, enrolled] of students) {
      const copy = copies.find((c) => marksArchiveOf(c.idnumber, 'prod', id));
      expect(copy?.students, `students of the copy of ${id}`).toEqual(enrolled);
    }
    expect(new Set(archive.store.data.users)).toEqual(new Set(prod.data.users));
  });
});
