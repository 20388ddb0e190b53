// Against two real Moodle 4.5 sites: doctor, then a session prod → archive
// over a shared path that deletes its sources, run through our worker and
// CLI as an administrator would, and the sites read afterwards.
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { courseShape } from '../../activities/course-shape';
import { archiveIdnumber } from '../../activities/restore';
import {
  client,
  deploy,
  enrolledUsernames,
  makeCourses,
  phaseFigures,
  restorePlaceholders,
  runSession,
  site,
  type Deployment,
  type MadeCourses,
} from './real-sites';

describe('real Moodle: doctor and a shared-path session', () => {
  let d: Deployment;
  let made: MadeCourses;
  beforeAll(async () => {
    d = await deploy('shared-path');
    made = await makeCourses('prod', {
      category: '2024-2025/Semester 1',
      shortnames: ['SP-A', 'SP-B', 'SP-AMP', 'SP-HTML'],
      // An ampersand (answered &amp; by the web services) and markup (refused by restore).
      fullnames: ['Shared path A', 'Shared path B', 'Maths & Physics: café > 3', '<b>Bold</b> course'],
      sharedUsers: 4,
    });
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('doctor passes every check on a correct set-up', async () => {
    const out = await d.cli(['doctor']);
    expect(out).not.toMatch(/FAIL/);
    expect(out).toMatch(/admin CLI: backup\.php, restore_backup\.php, delete_course\.php run/);
    expect(out).toMatch(/the CLI user writes in the folders a session makes there/);
  });

  it('doctor names a staging folder the CLI user cannot write in, with its fix', async () => {
    const staging = site('prod').staging;
    const mode = statSync(staging).mode & 0o7777;
    chmodSync(staging, 0o755); // the worker (root) still writes there; www-data does not
    try {
      const failed = await d.cli(['doctor']).then(
        () => '',
        (e: { stdout: string }) => e.stdout,
      );
      expect(failed).toMatch(/FAIL staging: runuser -u www-data -- php cannot write in /);
      expect(failed).toMatch(/fix: give .* the CLI user's group with group write and setgid/);
    } finally {
      chmodSync(staging, mode);
    }
  });

  it('archives, verifies and hides each course, deletes its source, and holds the one restore refuses', async () => {
    const [a, b, amp, html] = made.courses;
    const [{ id: archiveCategory }] = await client('archive').createCategories([
      { name: 'Archives', parent: 0, idnumber: `ARCH-${Date.now()}` },
    ]);
    const before = new Map<number, { students: string[]; modules: number; sections: number; bytes: number }>();
    for (const c of made.courses) {
      const contents = await client('prod').contents(c.id);
      before.set(c.id, {
        students: await enrolledUsernames('prod', c.id),
        modules: contents.flatMap((s) => s.modules).length,
        sections: contents.length,
        bytes: courseShape(contents).declaredBytes,
      });
    }
    const session = `real-sp-${Date.now()}`;
    const status = await runSession(
      d,
      session,
      [
        '--category',
        String(made.category.id),
        '--target-site',
        'archive',
        '--target-category',
        String(archiveCategory),
        '--delete-source',
        '--concurrency',
        '2',
      ],
      made.courses.length,
    );
    expect(status.counts).toMatchObject({ succeeded: 3, failed: 1 });
    expect(status.failed).toEqual([
      expect.objectContaining({
        courseId: html.id,
        errorType: 'Moodle:invalid-course-data',
        message: expect.stringMatching(/its full name holds HTML markup/),
      }),
    ]);

    // The real sites' phase times, beside the duration model's defaults (README: real-site figures).
    const figures = await phaseFigures(
      session,
      [a, b, amp].map((c) => ({ id: c.id, bytes: before.get(c.id)!.bytes, activities: before.get(c.id)!.modules })),
    );
    expect(figures.find((f) => f.phase === 'restore')!.measured).toHaveLength(3);

    const prod = client('prod');
    const archive = client('archive');
    for (const c of [a, b, amp]) {
      expect(await prod.coursesByField('id', c.id), `source ${c.shortname} deleted`).toEqual([]);
      const [copy] = await archive.coursesByField('idnumber', archiveIdnumber('prod', c.id));
      expect(copy, `archived copy of ${c.shortname}`).toBeDefined();
      expect(copy.visible).toBe(0);
      expect(copy.fullname).toBe(c.fullname);
      const contents = await archive.contents(copy.id);
      expect(contents.length).toBe(before.get(c.id)!.sections);
      expect(contents.flatMap((s) => s.modules).length).toBe(before.get(c.id)!.modules);
      expect(await enrolledUsernames('archive', copy.id)).toEqual(before.get(c.id)!.students);
    }
    // The refused course: its source intact, nothing of it on the archive site.
    expect(await prod.coursesByField('id', html.id)).toHaveLength(1);
    expect(await archive.coursesByField('idnumber', archiveIdnumber('prod', html.id))).toEqual([]);
    expect(await restorePlaceholders('archive')).toEqual([]);
    // No backup of an archived course is left on either host.
    const mbz = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mbz'));
    for (const c of [a, b, amp]) {
      expect(mbz(site('prod').staging).filter((f) => f.includes(`course-${c.id}-`))).toEqual([]);
      expect(mbz(site('archive').staging).filter((f) => f.includes(`course-${c.id}-`))).toEqual([]);
    }
  });
});
