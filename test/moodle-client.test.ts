// The Moodle client against the simulator: the real protocol, Moodle's error
// JSON, and the mapping of each error to retryable or not.
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asFailure } from '../activities/failures';
import { MoodleClient, encodeParams } from '../activities/moodle/client';
import { MoodleError, type MoodleFailureKind } from '../activities/moodle/errors';
import type { RestFault } from '../simulator/state';
import { MoodleHost } from '../activities/moodle/host';
import { startStack, type Stack } from './harness';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('Moodle web services through the simulator', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 3 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const client = (token: string) => new MoodleClient({ siteId: 'prod', url: stack.sim.sites.prod.url, token });

  it('answers a bad token with invalidtoken, mapped to a non-retryable failure that says what to fix', async () => {
    const err = await client('0123456789abcdef')
      .siteInfo()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MoodleError);
    expect(err).toMatchObject({ kind: 'invalid-token', errorcode: 'invalidtoken', retryable: false });
    expect((err as Error).message).toMatch(/Invalid token - token not found.*fix: check the token/);
    const failure = asFailure(err) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('Moodle:invalid-token');
  });

  it('downloads from a Range past the end, or after the file changed, take the whole file again', async () => {
    const moodle = client(stack.env.MOODLE_TOKEN_PROD);
    const [courseId] = stack.vintageCourseIds();
    await new MoodleHost('prod', {
      command: stack.sim.phpCommand,
      moodleDir: stack.sim.sites.prod.moodleDir,
      timeoutSeconds: 60,
    }).backupToArea(courseId);
    const [file] = await moodle.backupAreaFiles(courseId);
    const read = async (d: Awaited<ReturnType<MoodleClient['download']>>) => {
      let n = 0;
      for await (const chunk of d.body) n += (chunk as Buffer).length;
      return n;
    };
    // Moodle answers a Range past the end with 200 and the whole file.
    const past = await moodle.download(file, file.filesize + 10);
    expect([past.offset, past.total, await read(past)]).toEqual([0, file.filesize, file.filesize]);
    // It ignores If-Range: a 206 of another version (another ETag) is refused, and the whole file asked for.
    const changed = await moodle.download(file, 100, 'ffffffffffffffffffffffffffffffffffffffff');
    expect([changed.offset, await read(changed)]).toEqual([0, file.filesize]);
    const same = await moodle.download(file, 100, past.etag);
    expect([same.offset, await read(same)]).toEqual([100, file.filesize - 100]);
  });

  it('reads categories, courses and contents with the real encoding', async () => {
    const moodle = client(stack.env.MOODLE_TOKEN_PROD);
    const info = await moodle.siteInfo();
    expect(info.release).toMatch(/^4\.5/);
    const cats = await moodle.categories({ id: stack.vintageCategoryId });
    expect(cats.map((c) => c.id)).toContain(stack.vintageCategoryId);
    expect(cats.length).toBeGreaterThan(1); // subcategories come along
    const courses = await moodle.coursesByField('category', stack.vintageCategoryId);
    expect(courses.length).toBeGreaterThan(0);
    const sections = await moodle.contents(courses[0].id);
    expect(sections[0].modules.length).toBeGreaterThan(0);
  });

  it('maps a missing record and an invalid parameter to non-retryable failures', async () => {
    const moodle = client(stack.env.MOODLE_TOKEN_PROD);
    await expect(moodle.contents(99999)).rejects.toMatchObject({ kind: 'missing-record', errorcode: 'invalidrecord', retryable: false });
    await expect(moodle.call('core_course_get_contents', { courseid: 'abc' }, (await import('zod')).z.unknown())).rejects.toMatchObject({
      kind: 'invalid-parameter',
      retryable: false,
    });
  });

  it("maps a function outside the token's service to access-denied", async () => {
    const store = stack.sim.sites.prod.store;
    store.data.settings.tokens.limited0token = { functions: ['core_webservice_get_site_info'] };
    await expect(client('limited0token').contents(2)).rejects.toMatchObject({
      kind: 'access-denied',
      errorcode: 'accessexception',
      retryable: false,
    });
  });

  it('maps each class of failure a site can show, injected by the simulator, in one place', async () => {
    const store = stack.sim.sites.prod.store;
    const cases: [RestFault['kind'], MoodleFailureKind, boolean, RegExp][] = [
      ['webservices-disabled', 'web-services-disabled', false, /HTTP 403 .*fix: enable web services and the REST protocol/],
      ['nopermissions', 'missing-capability', false, /nopermissions: .*\(Delete courses\).*fix: give the token's user the capability/],
      ['http-503', 'transient', true, /HTTP 503/],
      ['drop-connection', 'transient', true, /network error ECONNRESET/],
      ['slow', 'transient', true, /no answer within 0\.5 s/],
      ['dml-read', 'transient', true, /dmlreadexception: Error reading from database/],
      ['maintenance', 'transient', true, /sitemaintenance: The site is undergoing maintenance/],
    ];
    const moodle = new MoodleClient({
      siteId: 'prod',
      url: stack.sim.sites.prod.url,
      token: stack.env.MOODLE_TOKEN_PROD,
      timeoutSeconds: 0.5,
    });
    for (const [fault, kind, retryable, message] of cases) {
      store.data.restFaults = [{ kind: fault, function: 'core_course_get_contents', times: 1, seconds: 2 }];
      const err = await moodle.contents(stack.vintageCourseIds()[0]).catch((e: unknown) => e);
      expect([fault, err]).toEqual([fault, expect.objectContaining({ kind, retryable })]);
      expect((err as Error).message).toMatch(message);
      const failure = asFailure(err) as ApplicationFailure;
      expect([fault, failure.type, failure.nonRetryable]).toEqual([fault, `Moodle:${kind}`, !retryable]);
      // The fault was one call only: the next one is answered.
      expect((await moodle.contents(stack.vintageCourseIds()[0])).length).toBeGreaterThan(0);
    }
  });

  it('lets a session ride through transient failures, and fail a course at once on what the admin must fix', async () => {
    stack.sim.sites.prod.store.data.restFaults = [
      { function: 'core_course_get_contents', kind: 'http-503', times: 2 },
      { function: 'core_course_get_contents', kind: 'dml-read', times: 1 },
    ];
    stack.sim.sites.archive.store.data.restFaults = [{ function: 'core_course_update_courses', kind: 'nopermissions', times: 1 }];
    const result = await stack.runSession(stack.sessionInput({ deleteSource: false, failureHoldHours: 0 }));
    expect(stack.sim.sites.prod.store.data.restFaults).toEqual([]); // every transient failure was met, and retried past
    expect(result.counts).toMatchObject({ succeeded: 2, failed: 1 });
    // Restore marks the copy through core_course_update_courses: the first call that needs the capability.
    expect(result.failed[0]).toMatchObject({ phase: 'restore', errorType: 'Moodle:missing-capability' });
    expect(result.failed[0].message).toMatch(/Sorry, but you do not currently have permissions to do that \(Delete courses\)/);
  });

  it('turns a response of an unexpected shape into a clear error naming the function and the field', async () => {
    const course = stack.sim.sites.prod.store.data.courses[0];
    const fullname = course.fullname;
    (course as { fullname?: string }).fullname = undefined; // a site (or a plugin) that leaves a field out
    try {
      const err = await client(stack.env.MOODLE_TOKEN_PROD)
        .coursesByField('id', course.id)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'unexpected-response', retryable: false });
      expect((err as Error).message).toMatch(/^prod: core_course_get_courses_by_field: field courses\.0\.fullname: .*expected string/);
    } finally {
      course.fullname = fullname;
    }
  });

  it('treats a network failure as retryable', async () => {
    const dead = new MoodleClient({ siteId: 'gone', url: 'http://127.0.0.1:1', token: 'abc' });
    await expect(dead.siteInfo()).rejects.toMatchObject({ kind: 'transient', retryable: true });
  });

  it('encodes arrays in PHP bracket notation, never as JSON or comma lists', () => {
    expect(encodeParams({ courseids: [5, 7], courses: [{ id: 5, visible: false }] }).toString()).toBe(
      'courseids%5B0%5D=5&courseids%5B1%5D=7&courses%5B0%5D%5Bid%5D=5&courses%5B0%5D%5Bvisible%5D=0',
    );
  });
});

describe('the admin-CLI host adapter on the stand-in scripts', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 2 });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const host = () =>
    new MoodleHost('prod', { command: stack.sim.phpCommand, moodleDir: stack.sim.sites.prod.moodleDir, timeoutSeconds: 60 });

  it('finds the produced file from the "Writing" line, and restores it into a new course id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backup-'));
    const [courseId] = stack.vintageCourseIds();
    const file = await host().backup(courseId, dir);
    expect(file).toMatch(new RegExp(`^${dir}/backup-moodle2-course-${courseId}-.*\\.mbz$`));
    const target = new MoodleHost('archive', {
      command: stack.sim.phpCommand,
      moodleDir: stack.sim.sites.archive.moodleDir,
      timeoutSeconds: 60,
    });
    const id = await target.restore(file, stack.archivesCategoryId);
    expect(stack.sim.sites.archive.store.course(id)?.shortname).toBe(stack.sim.sites.prod.store.course(courseId)?.shortname);
    // A second restore of the same file is renamed, as Moodle does, and clears idnumber.
    const again = await target.restore(file, stack.archivesCategoryId);
    expect(stack.sim.sites.archive.store.course(again)).toMatchObject({
      shortname: `${stack.sim.sites.prod.store.course(courseId)?.shortname}_1`,
      idnumber: '',
    });
  });

  it("turns backup.php's exit-0 failure on a bad destination into a non-retryable host error", async () => {
    await expect(host().backup(stack.vintageCourseIds()[0], '/nonexistent/staging')).rejects.toMatchObject({
      kind: 'host-misconfigured',
      retryable: false,
    });
  });

  it('takes a wrong moodleDir or a missing CLI user for a configuration error, never retried', async () => {
    const wrongDir = new MoodleHost('prod', { command: stack.sim.phpCommand, moodleDir: '/var/www/nomoodle', timeoutSeconds: 60 });
    await expect(wrongDir.backup(stack.vintageCourseIds()[0], tmpdir())).rejects.toMatchObject({
      kind: 'host-misconfigured',
      retryable: false,
      message: expect.stringMatching(/no \/var\/www\/nomoodle\/admin\/cli\/backup\.php: is cli\.moodleDir the folder/),
    });
    const noUser = new MoodleHost('prod', {
      command: ['sh', '-c', 'echo "runuser: user nosuchuser does not exist" >&2; exit 1', 'php'],
      moodleDir: stack.sim.sites.prod.moodleDir,
      timeoutSeconds: 60,
    });
    await expect(noUser.deleteCourse(1)).rejects.toMatchObject({ kind: 'host-misconfigured', retryable: false });
  });

  it("maps restore_backup.php's known error outputs, and a script past its timeout", async () => {
    const target = (timeoutSeconds = 60) =>
      new MoodleHost('archive', { command: stack.sim.phpCommand, moodleDir: stack.sim.sites.archive.moodleDir, timeoutSeconds });
    const dir = mkdtempSync(join(tmpdir(), 'restore-'));
    const file = await host().backup(stack.vintageCourseIds()[0], dir);
    await expect(target().restore(file, 9999)).rejects.toMatchObject({
      kind: 'missing-record',
      retryable: false,
      message: expect.stringMatching(/target category 9999 does not exist/),
    });
    await expect(target().restore('/nonexistent.mbz', stack.archivesCategoryId)).rejects.toMatchObject({
      kind: 'missing-record',
      retryable: false,
    });
    const corrupt = join(dir, 'corrupt.mbz');
    writeFileSync(corrupt, 'not a backup');
    await expect(target().restore(corrupt, stack.archivesCategoryId)).rejects.toMatchObject({
      kind: 'host-command-failed',
      retryable: true,
      message: expect.stringMatching(/exit 1: Exception - Call to a member function destroy\(\) on null/),
    });
    // A script that runs past the site's timeout is killed, and the attempt may be retried.
    const settings = stack.sim.sites.archive.store.data.settings;
    settings.latency = { fixedSeconds: 5, secondsPerMB: 0, secondsPerActivity: 0 };
    stack.sim.sites.archive.store.save();
    try {
      await expect(target(1).restore(file, stack.archivesCategoryId)).rejects.toMatchObject({
        kind: 'transient',
        retryable: true,
        message: expect.stringMatching(/killed after 1s timeout/),
      });
    } finally {
      settings.latency = { fixedSeconds: 0, secondsPerMB: 0, secondsPerActivity: 0 };
      stack.sim.sites.archive.store.save();
    }
  });

  it('reports a course already gone as not-found instead of failing the cleanup', async () => {
    const [courseId] = stack.vintageCourseIds();
    expect(await host().deleteCourse(courseId)).toBe('deleted');
    expect(await host().deleteCourse(courseId)).toBe('not-found');
  });
});
