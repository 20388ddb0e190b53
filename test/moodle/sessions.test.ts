// Against two real Moodle 4.5 sites: a session over moodle-ws (backups pulled
// through the source's web services), one into a cold storage, and the
// set-up mistakes that must hold a course for the operator with its source
// intact, or refuse the session before any backup.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { courseWorkflowId, tokenEnvName } from '../../contract';
import { workerProcess } from '../../rig/rig';
import type { CourseFacts } from '../../workflows/types';
import { courseShape, shapeDifferences } from '../../activities/course-shape';
import { marksArchiveOf } from '../../activities/restore';
import { until } from '../harness';
import { render } from '../browser';
import { sessionStatus } from '../../client/sessions';
import {
  client,
  deploy,
  enrolledUsernames,
  makeCourses,
  phaseFigures,
  restorePlaceholders,
  runSession,
  site,
  startSession,
  sql,
  teacherEdit,
  type Deployment,
} from './real-sites';

const sourceGone = async (ids: number[]) => {
  for (const id of ids) expect(await client('prod').coursesByField('id', id), `source ${id}`).toEqual([]);
};
const newArchiveCategory = async (name: string) =>
  (await client('archive').createCategories([{ name, parent: 0, idnumber: `${name}-${Date.now()}` }]))[0].id;

describe('real Moodle: sessions by other routes, and mistakes held for the operator', () => {
  let d: Deployment | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it('over moodle-ws: the backup pulled from the course backup area, verified, the source deleted; a held course skipped keeps no backup there', async () => {
    d = await deploy('moodle-ws', (raw) => {
      raw.transports = [{ from: 'prod', to: 'archive', driver: 'moodle-ws' }];
    });
    const all = await makeCourses('prod', {
      category: '2024-2025/WS',
      shortnames: ['WS-A', 'WS-B', 'WS-H'],
      fullnames: ['Web services A', 'Web services B', '<i>Held</i> by restore'],
      sharedUsers: 3,
    });
    const made = { ...all, courses: all.courses.slice(0, 2) };
    const held = all.courses[2];
    const students = await Promise.all(made.courses.map((c) => enrolledUsernames('prod', c.id)));
    const shapes = await Promise.all(made.courses.map(async (c) => courseShape(await client('prod').contents(c.id))));
    const sizes = made.courses.map((c, i) => ({ id: c.id, bytes: shapes[i].declaredBytes, activities: shapes[i].activityCount }));
    const target = await newArchiveCategory('ArchivesWS');
    const session = `real-ws-${Date.now()}`;
    const status = await runSession(
      d,
      session,
      ['--category', String(made.category.id), '--target-site', 'archive', '--target-category', String(target), '--delete-source'],
      all.courses.length,
    );
    expect(status.counts).toMatchObject({ succeeded: 2, failed: 1 });
    // The held course's backup waits in its backup area for a retry; skipped, it goes, and the course stays.
    expect((await client('prod').backupAreaFiles(held.id)).map((f) => f.filename)).toHaveLength(1);
    await d.cli(['skip', session, String(held.id)]);
    await until(
      () => client('prod').backupAreaFiles(held.id),
      (files) => files.length === 0,
      60_000,
    );
    expect(await client('prod').coursesByField('id', held.id)).toHaveLength(1);
    await phaseFigures(session, sizes);
    await sourceGone(made.courses.map((c) => c.id));
    for (const [i, c] of made.courses.entries()) {
      const [copy] = (await client('archive').coursesByField('category', target)).filter((x) => marksArchiveOf(x.idnumber, 'prod', c.id));
      expect(copy).toMatchObject({ shortname: c.shortname, visible: 0, categoryid: target });
      expect(shapeDifferences(shapes[i], courseShape(await client('archive').contents(copy.id))), `copy of ${c.shortname}`).toEqual([]);
      expect(await enrolledUsernames('archive', copy.id)).toEqual(students[i]);
    }
    expect(await restorePlaceholders('archive')).toEqual([]);

    // Its report, as a browser shows it: the pictures drawn, the failed-then-skipped course listed.
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    await d.cli(['report', session, '--out', out]);
    const page = await render(join(out, `${session}.html`), out);
    expect(page.dom.match(/<svg/g)).toHaveLength(3);
    expect(page.dom).toContain('Time per host');
    expect(page.dom).toContain('WS-H');
    // A page with text and pictures compresses far worse than a blank one.
    expect(page.bytes).toBeGreaterThan(5 * page.blankBytes);
    // Kept where a person looks at it after the run.
    mkdirSync('.data', { recursive: true });
    copyFileSync(page.png, join('.data', 'report-screenshot.png'));
  });

  it('a target worker killed mid-download: the next attempt resumes with a Range request and only fetches the rest', async () => {
    // 1 MB/s: an S course's backup (about 9.5 MB) takes about 10 s to cross, heartbeating every MB.
    d = await deploy(
      'kill',
      (raw) => {
        raw.transports = [{ from: 'prod', to: 'archive', driver: 'moodle-ws', maxMBps: 1 }];
      },
      ['archive-main-kill', 'site/prod'],
    );
    let target = workerProcess(d.configFile, d.env, ['site/archive'], inject('workflowBundlePath'));
    await target.started;
    const made = await makeCourses('prod', { category: '2024-2025/Kill', shortnames: ['KL-A'], size: 'S' });
    const [course] = made.courses;
    const archiveCategory = await newArchiveCategory('ArchivesKill');
    const session = `real-kill-${Date.now()}`;
    const temporal = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
    try {
      const done = runSession(
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
        ],
        1,
      );
      // Part-way, as the server knows it: the transport's last recorded heartbeat.
      const handle = temporal.workflow.getHandle(courseWorkflowId(session, course.id));
      const offsetAtKill = await until(
        async () => {
          const pending = (await handle.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
          const payload = pending.find((a) => a.activityType?.name === 'transportBackup')?.heartbeatDetails?.payloads?.[0];
          return payload ? ((defaultPayloadConverter.fromPayload(payload) as { offset?: number }).offset ?? 0) : 0;
        },
        (offset) => offset > 0,
        120_000,
      );
      target.proc.kill('SIGKILL');
      await target.exited;
      target = workerProcess(d.configFile, d.env, ['site/archive'], inject('workflowBundlePath'));
      const status = await done;
      expect(status.counts).toMatchObject({ succeeded: 1, failed: 0 });
      const { facts } = (await handle.result()) as { facts: CourseFacts };
      expect(facts.resumedFrom).toBeGreaterThanOrEqual(offsetAtKill);
      expect(facts.transferredBytes).toBe(facts.mbzBytes! - facts.resumedFrom!);
      await sourceGone([course.id]);
    } finally {
      await target.stop();
      await temporal.connection.close();
    }
  });

  it('into a cold storage: a package per course, verified; a course edited since is archived again before its source is deleted', async () => {
    const cold = mkdtempSync(join(tmpdir(), 'cold-'));
    d = await deploy('cold', (raw) => {
      raw.storages = { cold: { path: join(cold, 'archive'), staging: join(cold, 'incoming') } };
      raw.transports = [{ from: 'prod', to: 'cold', driver: 'shared-path' }];
    });
    const made = await makeCourses('prod', { category: '2024-2025/Cold', shortnames: ['CO-A', 'CO-B'] });
    const [edited, kept] = made.courses;
    const packages = () => readdirSync(join(cold, 'archive'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tar'));
    // Archived with its sources kept; then a teacher uploads a file into one course (only its file list moves).
    const options = ['--category', String(made.category.id), '--target-site', 'cold'];
    const first = await runSession(d, `real-cold-${Date.now()}`, options, made.courses.length);
    expect(first.counts).toMatchObject({ succeeded: 2, failed: 0 });
    expect(packages()).toHaveLength(2);
    await teacherEdit('prod', edited.id, 'uploadfile');
    const status = await runSession(d, `real-cold-del-${Date.now()}`, [...options, '--delete-source'], made.courses.length);
    expect(status.counts).toMatchObject({ succeeded: 2, failed: 0 });
    await sourceGone(made.courses.map((c) => c.id));
    // The unchanged course was verified again and deleted; the edited one has a second package, of it as it was deleted.
    const rows = async (id: number) => JSON.parse(await d!.cli(['catalog', 'find', '--json', `prod:${id}`])) as Record<string, unknown>[];
    expect((await rows(kept.id)).map((r) => [r.version, r.sourceDeleted])).toEqual([[1, true]]);
    expect((await rows(edited.id)).map((r) => [r.version, r.sourceDeleted])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(packages()).toHaveLength(3);
    expect(await d.cli(['catalog', 'verify'])).toMatch(/^Ledger intact: \d+ entries/);
    expect(existsSync(join(cold, 'incoming')) ? readdirSync(join(cold, 'incoming')) : []).toEqual([]);
  });

  it('a wrong moodleDir on the target holds the course for the operator, its source intact', async () => {
    d = await deploy('wrong-dir', (raw) => {
      (raw.sites as Record<string, { cli: { moodleDir: string } }>).archive.cli.moodleDir = '/var/www/nomoodle';
    });
    const made = await makeCourses('prod', { category: '2024-2025/WrongDir', shortnames: ['WD-A'] });
    const target = await newArchiveCategory('ArchivesWD');
    const status = await runSession(
      d,
      `real-wd-${Date.now()}`,
      ['--category', String(made.category.id), '--target-site', 'archive', '--target-category', String(target), '--delete-source'],
      1,
    );
    expect(status.failed).toEqual([
      expect.objectContaining({
        courseId: made.courses[0].id,
        phase: 'restore',
        errorType: 'Moodle:host-misconfigured',
        message: expect.stringMatching(/no \/var\/www\/nomoodle\/admin\/cli\/restore_backup\.php/),
      }),
    ]);
    expect(await client('prod').coursesByField('id', made.courses[0].id)).toHaveLength(1);
  });

  it('a source token revoked mid-session holds the course, its source intact; with the token back, a retry archives it', async () => {
    d = await deploy('revoked');
    const made = await makeCourses('prod', { category: '2024-2025/Revoked', shortnames: ['RV-A'], size: 'S' });
    const [course] = made.courses;
    const target = await newArchiveCategory('ArchivesRV');
    const session = `real-rv-${Date.now()}`;
    await startSession(d, session, [
      '--category',
      String(made.category.id),
      '--target-site',
      'archive',
      '--target-category',
      String(target),
      '--delete-source',
    ]);
    const temporal = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
    const token = site('prod').token;
    const revoked = `revoked${token.slice(7)}`;
    try {
      // Once the course is past prepare (its last call on the source until the checks before deletion), the token goes.
      await until(
        () => sessionStatus(temporal, session, { phases: true }),
        (s) => ['backup', 'transport', 'restore'].some((p) => (s.phases?.[p as keyof typeof s.phases] ?? 0) > 0),
        120_000,
      );
      await sql('prod', `UPDATE mdl_external_tokens SET token = '${revoked}' WHERE token = '${token}'`);
      const held = await until(
        () => sessionStatus(temporal, session),
        (s) => s.counts.failed === 1,
        180_000,
      );
      expect(held.failed).toEqual([
        expect.objectContaining({
          courseId: course.id,
          errorType: 'Moodle:invalid-token',
          message: expect.stringMatching(
            new RegExp(`Invalid token.*fix: check the token in the worker environment \\(${tokenEnvName('prod')}\\)`),
          ),
        }),
      ]);
      // Whatever it reached on the archive site is not shown to anyone yet.
      for (const c of await client('archive').coursesByField('category', target)) expect(c.visible).toBe(0);
      await sql('prod', `UPDATE mdl_external_tokens SET token = '${token}' WHERE token = '${revoked}'`);
      expect(await client('prod').coursesByField('id', course.id)).toHaveLength(1);

      await d.cli(['retry', session, String(course.id)]);
      const end = await until(
        () => sessionStatus(temporal, session),
        (s) => s.counts.succeeded === 1,
        180_000,
      );
      expect(end.counts).toMatchObject({ succeeded: 1, failed: 0 });
      await sourceGone([course.id]);
      const copies = await client('archive').coursesByField('category', target);
      expect(copies).toHaveLength(1);
      expect(marksArchiveOf(copies[0].idnumber, 'prod', course.id)).toBe(true);
      expect(await restorePlaceholders('archive')).toEqual([]);
    } finally {
      await sql('prod', `UPDATE mdl_external_tokens SET token = '${token}' WHERE token = '${revoked}'`);
      await temporal.connection.close();
    }
  });

  it('a target category that does not exist refuses the session before any backup', async () => {
    d = await deploy('no-category');
    const made = await makeCourses('prod', { category: '2024-2025/NoCat', shortnames: ['NC-A'] });
    const session = `real-nc-${Date.now()}`;
    await startSession(d, session, ['--category', String(made.category.id), '--target-site', 'archive', '--target-category', '99999']);
    // What the administrator reads: status names the reason, and fails.
    const out = await until(
      () =>
        d!.cli(['status', session]).then(
          () => '',
          (e: { stdout: string }) => e.stdout,
        ),
      (o) => o !== '',
      60_000,
    );
    expect(out).toMatch(/stopped on an error: targetCategoryId: category 99999 does not exist on archive/);
    expect(await client('prod').backupAreaFiles(made.courses[0].id)).toEqual([]);
  });
});
