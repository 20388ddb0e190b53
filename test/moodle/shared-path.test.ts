// Against two real Moodle 4.5 sites: doctor, then a session prod → archive
// over a shared path that deletes its sources, run through our worker and
// CLI as an administrator would, and the sites read afterwards.
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { courseShape, shapeDifferences, type CourseShape } from '../../activities/course-shape';
import { marksArchiveOf } from '../../activities/restore';
import { Course, REQUIRED_FUNCTIONS } from '../../activities/moodle/client';
import { z } from 'zod';
import { tokenEnvName } from '../../contract';
import {
  client,
  deploy,
  enrolledUsernames,
  makeCourses,
  phaseFigures,
  restorePlaceholders,
  adminCli,
  sql,
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

  it('doctor names each other check a real host can break, with its fix', async () => {
    const failure = (deployment: Deployment) =>
      deployment.cli(['doctor']).then(
        (out) => `passed:\n${out}`,
        (e: { stdout: string }) => e.stdout,
      );
    // A function taken out of the token's service.
    const fn = REQUIRED_FUNCTIONS[REQUIRED_FUNCTIONS.length - 1];
    const inService = `externalserviceid IN (SELECT externalserviceid FROM mdl_external_tokens WHERE token = '${site('prod').token}')`;
    await sql(
      'prod',
      `UPDATE mdl_external_services_functions SET functionname = '${fn}_off' WHERE functionname = '${fn}' AND ${inService}`,
    );
    try {
      const out = await failure(d);
      expect(out).toMatch(new RegExp(`FAIL functions: the token's service lacks ${fn}`));
      expect(out).toMatch(/fix: add them in Site administration > Server > Web services > External services/);
    } finally {
      await sql(
        'prod',
        `UPDATE mdl_external_services_functions SET functionname = '${fn}' WHERE functionname = '${fn}_off' AND ${inService}`,
      );
    }
    // Web services turned off on the site.
    await adminCli('prod', 'admin/cli/cfg.php', ['--name=enablewebservices', '--set=0']);
    try {
      const out = await failure(d);
      expect(out).toMatch(/FAIL web services: prod: .*HTTP 403/);
      expect(out).toMatch(/fix: turn on Site administration > General > Advanced features > Enable web services/);
    } finally {
      await adminCli('prod', 'admin/cli/cfg.php', ['--name=enablewebservices', '--set=1']);
    }
    // A token the site does not know, and a moodleDir that holds no Moodle: the worker's own settings,
    // so its worker alone serves the site queues meanwhile.
    await d.stop();
    const wrong = await deploy('doctor-wrong', (raw, env) => {
      env[tokenEnvName('prod')] = 'f'.repeat(32);
      (raw.sites as Record<string, { cli: { moodleDir: string } }>).archive.cli.moodleDir = '/var/www/nomoodle';
    });
    try {
      const out = await failure(wrong);
      expect(out).toMatch(/FAIL web services: prod: .*invalidtoken|FAIL web services: prod: .*[Ii]nvalid token/);
      expect(out).toMatch(
        new RegExp(`fix: create a token for the archiver's user in .*, and give it to the worker as ${tokenEnvName('prod')}`),
      );
      expect(out).toMatch(/FAIL admin CLI: .*\/var\/www\/nomoodle/);
      expect(out).toMatch(/fix: set sites\.archive\.cli\.command to the php command line of this host/);
    } finally {
      await wrong.stop();
      d = await deploy('shared-path');
    }
    // Mended: every check passes again.
    expect(await d.cli(['doctor'])).not.toMatch(/FAIL/);
  });

  it('archives, verifies and hides each course, deletes its source, and holds the one restore refuses', async () => {
    const [a, b, amp, html] = made.courses;
    const [{ id: archiveCategory }] = await client('archive').createCategories([
      { name: 'Archives', parent: 0, idnumber: `ARCH-${Date.now()}` },
    ]);
    const before = new Map<number, { students: string[]; shape: CourseShape }>();
    for (const c of made.courses)
      before.set(c.id, { students: await enrolledUsernames('prod', c.id), shape: courseShape(await client('prod').contents(c.id)) });
    const options = [
      '--category',
      String(made.category.id),
      '--target-site',
      'archive',
      '--target-category',
      String(archiveCategory),
      '--delete-source',
      '--concurrency',
      '2',
    ];
    // plan first, as an administrator would: every course of the category, to archive.
    const plan = parse(
      await d.cli(['plan', '--source-site', 'prod', ...options.filter((o) => o !== '--delete-source'), '--format', 'csv']),
      {
        columns: true,
      },
    ) as Record<string, string>[];
    const byId = (a: [number, string], b: [number, string]) => a[0] - b[0];
    expect(plan.map((r): [number, string] => [Number(r.courseId), r.action]).sort(byId)).toEqual(
      made.courses.map((c): [number, string] => [c.id, 'archive']).sort(byId),
    );
    const session = `real-sp-${Date.now()}`;
    const status = await runSession(d, session, options, made.courses.length);
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
      [a, b, amp].map((c) => ({
        id: c.id,
        bytes: before.get(c.id)!.shape.declaredBytes,
        activities: before.get(c.id)!.shape.activityCount,
      })),
    );
    expect(figures.find((f) => f.phase === 'restore')!.measured).toHaveLength(3);

    const prod = client('prod');
    const archive = client('archive');
    // Every course of the archive site (no field: all), to find each copy by its mark.
    const copies = (await archive.call('core_course_get_courses_by_field', {}, z.object({ courses: z.array(Course) }))).courses;
    for (const c of [a, b, amp]) {
      expect(await prod.coursesByField('id', c.id), `source ${c.shortname} deleted`).toEqual([]);
      const [copy] = copies.filter((x) => marksArchiveOf(x.idnumber, 'prod', c.id));
      expect(copy, `archived copy of ${c.shortname}`).toBeDefined();
      expect(copy.visible).toBe(0);
      expect(copy.fullname).toBe(c.fullname);
      // Same sections, activities by type, files and bytes as the source had.
      const shape = courseShape(await archive.contents(copy.id));
      expect(shapeDifferences(before.get(c.id)!.shape, shape), `copy of ${c.shortname}`).toEqual([]);
      expect(shape.fileCount).toBeGreaterThan(0);
      expect(await enrolledUsernames('archive', copy.id)).toEqual(before.get(c.id)!.students);
    }
    // The refused course: its source intact, nothing of it on the archive site.
    expect(await prod.coursesByField('id', html.id)).toHaveLength(1);
    expect(copies.filter((x) => marksArchiveOf(x.idnumber, 'prod', html.id))).toEqual([]);
    expect(await restorePlaceholders('archive')).toEqual([]);
    // No backup of an archived course is left on either host.
    const mbz = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mbz'));
    for (const c of [a, b, amp]) {
      expect(mbz(site('prod').staging).filter((f) => f.includes(`course-${c.id}-`))).toEqual([]);
      expect(mbz(site('archive').staging).filter((f) => f.includes(`course-${c.id}-`))).toEqual([]);
    }
  });
});
