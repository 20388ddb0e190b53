// Whole sessions on real parts: the Temporal dev server, the simulated
// Moodle sites with their admin-CLI stand-ins, the SQLite catalog.
import { WorkflowFailedError } from '@temporalio/client';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marksArchiveOf } from '../activities/restore';
import { archiverCli, startStack, type Stack } from './harness';
import { courseWorkflowId, sessionWorkflowId } from '../contract';

// Enough courses to fill the window of 5 more than once and to spread over the vintage's subcategories.
const COURSES = 8;

describe(`an archive session of ${COURSES} courses`, () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: COURSES });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('archives, verifies and hides every course, records it in the catalog, then deletes the sources', async () => {
    const sources = stack.vintageCourseIds();
    expect(sources).toHaveLength(COURSES);
    // A name with an ampersand and an entity: the web services answer it escaped (format_string), the backup raw.
    const named = stack.sim.sites.prod.store.data.courses.find((c) => c.id === sources[0])!;
    named.fullname = 'Maths & Physics: caf&eacute; > 3';
    stack.sim.sites.prod.store.save();
    const prodCourses = new Map(stack.sim.sites.prod.store.data.courses.map((c) => [c.id, structuredClone(c)]));
    // Pages of 3: later pages are read after earlier sources were deleted.
    const input = stack.sessionInput({ deleteSource: true, pageSize: 3 });

    const result = await stack.runSession(input);

    expect(result.counts).toEqual({ succeeded: COURSES, failed: 0, skipped: 0, cancelled: 0 });
    expect(result).toMatchObject({ finished: true, total: COURSES, done: COURSES, percent: 100 });
    const archive = stack.sim.sites.archive.store;
    const archivedCats = new Set(archive.subtree(stack.archivesCategoryId).map((c) => c.id));
    expect(archive.data.courses).toHaveLength(COURSES);
    for (const id of sources) {
      const src = prodCourses.get(id)!;
      const copy = archive.data.courses.find((c) => marksArchiveOf(c.idnumber, 'prod', id));
      expect(copy, `archive copy of course ${id}`).toBeDefined();
      expect(archivedCats.has(copy!.category)).toBe(true);
      // Mapped category: the copy sits in the mirror of its source category.
      const srcCat = stack.sim.sites.prod.store.category(src.category)!;
      expect(archive.category(copy!.category)!.name).toBe(src.category === stack.vintageCategoryId ? 'Archives' : srcCat.name);
      expect(copy!.visible).toBe(0);
      expect(copy!.shortname).toBe(src.shortname);
      expect(copy!.sections.flatMap((s) => s.modules)).toHaveLength(src.sections.flatMap((s) => s.modules).length);

      const row = await stack.catalog.find('prod', id);
      expect(row).toMatchObject({
        verified: true,
        sourceDeleted: true,
        targetSiteId: 'archive',
        targetCourseId: copy!.id,
        sessionId: input.session,
      });
      // The catalog's checksum is the one the course workflow measured at backup and checked after transport.
      const child = await stack.client.workflow.getHandle(courseWorkflowId(input.session, id)).result();
      expect(row!.mbzSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(row!.mbzSha256).toBe(child.facts.mbzSha256);
      expect(Number(row!.mbzBytes)).toBe(child.facts.mbzBytes);
    }
    // Recorded as a reader sees it; the copy holds the raw name, as the source did.
    expect((await stack.catalog.find('prod', sources[0]))!.fullname).toBe('Maths & Physics: café > 3');
    expect(archive.data.courses.find((c) => marksArchiveOf(c.idnumber, 'prod', sources[0]))!.fullname).toBe(named.fullname);
    expect(stack.vintageCourseIds()).toEqual([]);

    // The Web UI's story: a summary for the session and each course, and current details (the UI reads them with
    // the workflow metadata query), with ISO times in results.
    const session = stack.client.workflow.getHandle(sessionWorkflowId(input.session));
    expect(await (await session.describe()).staticSummary()).toBe(
      `Archive session ${input.session}: vintage 2024-2025, prod category ${stack.vintageCategoryId} → archive category ${stack.archivesCategoryId}`,
    );
    const metadata = (h: typeof session) => h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect((await metadata(session)).currentDetails).toMatch(
      new RegExp(`^\\*\\*completed\\*\\* · ${COURSES}/${COURSES} done \\(100%\\) · 0 running · ${COURSES} archived, 0 failed, 0 skipped`),
    );
    const course = stack.client.workflow.getHandle(courseWorkflowId(input.session, sources[0]));
    expect(await (await course.describe()).staticSummary()).toBe(`Course ${sources[0]} of session ${input.session}: prod → archive`);
    expect((await metadata(course)).currentDetails).toMatch(/^\*\*succeeded\*\* · .+ {2}\nbackup \d+\.\d MB/);
    const { facts } = await course.result();
    expect(facts.phaseTimes.prepare![0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

describe('a session that keeps its sources, run twice', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: COURSES });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('leaves every source course in place, and a second run archives nothing twice', async () => {
    const sources = stack.vintageCourseIds();
    const input = stack.sessionInput({ deleteSource: false });

    const first = await stack.runSession(input);
    expect(first.counts).toEqual({ succeeded: COURSES, failed: 0, skipped: 0, cancelled: 0 });
    expect(stack.vintageCourseIds()).toEqual(sources);
    expect(stack.sim.sites.archive.store.data.courses).toHaveLength(COURSES);
    for (const id of sources) expect(await stack.catalog.find('prod', id)).toMatchObject({ verified: true, sourceDeleted: false });

    const second = await stack.runSession(input);
    expect(second.counts).toEqual({ succeeded: 0, failed: 0, skipped: COURSES, cancelled: 0 });
    expect(stack.sim.sites.archive.store.data.courses).toHaveLength(COURSES);
    expect(stack.vintageCourseIds()).toEqual(sources);
  });

  it('is refused at its start, before any backup, when its target category does not exist', async () => {
    const backupsBefore = stack.sim.sites.prod.scripts.started['backup.php'] ?? 0;
    const input = stack.sessionInput({ targetCategoryId: 99_999 });
    const err = await stack.runSession(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    // The session's failure, caused by its checkSites activity's.
    expect((err as WorkflowFailedError).cause?.cause).toMatchObject({
      type: 'TargetCategoryNotFound',
      message: expect.stringMatching(/^targetCategoryId: category 99999 does not exist on archive; create it/),
    });
    expect(stack.sim.sites.prod.scripts.started['backup.php'] ?? 0).toBe(backupsBefore);
    // The administrator's status says why, and fails.
    const status = await archiverCli(stack, ['status', input.session]).then(
      () => 'exit 0',
      (e: { stdout: string }) => e.stdout,
    );
    expect(status).toMatch(/stopped on an error: targetCategoryId: category 99999 does not exist on archive/);
    // And its report, the reason it stopped.
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    await archiverCli(stack, ['report', input.session, '--out', out]);
    expect(readFileSync(join(out, `${input.session}.html`), 'utf8')).toMatch(
      /<b>Stopped:<\/b> targetCategoryId: category 99999 does not exist on archive/,
    );
  });
});

describe('a session where one course cannot be backed up', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: COURSES });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('completes with all others archived and the failed courses listed, their sources intact', async () => {
    const sources = stack.vintageCourseIds();
    const broken = sources[5];
    stack.sim.sites.prod.store.data.faults.push({ script: 'backup', courseId: broken, times: -1 });
    // A full name with markup: Moodle's restore refuses it whatever the retries (setting_invalid_text).
    const tagged = sources[2];
    stack.sim.sites.prod.store.data.courses.find((c) => c.id === tagged)!.fullname = '<b>Bold</b> course';
    stack.sim.sites.prod.store.save();

    const result = await stack.runSession(stack.sessionInput({ deleteSource: true, failureHoldHours: 0 }));

    expect(result.counts).toEqual({ succeeded: COURSES - 2, failed: 2, skipped: 0, cancelled: 0 });
    const failed = new Map(result.failed.map((f) => [f.courseId, f]));
    expect(failed.get(broken)).toMatchObject({ phase: 'backup', errorType: 'Moodle:host-command-failed' });
    expect(failed.get(broken)!.message).toContain('Error reading from database');
    // Said once, naming the course and the field to edit; restore ran once for it and left nothing behind.
    expect(failed.get(tagged)).toMatchObject({ phase: 'restore', errorType: 'Moodle:invalid-course-data' });
    expect(failed.get(tagged)!.message).toMatch(
      /course \d+ \(.+\): its full name holds HTML markup .*setting_invalid_text.*Remove the markup/,
    );
    expect(stack.sim.sites.archive.scripts.started['restore_backup.php']).toBe(COURSES - 1);
    expect(stack.sim.sites.archive.store.data.courses).toHaveLength(COURSES - 2);
    // The failed courses closed (no hold): nothing of the session is left in either staging folder.
    for (const site of ['prod', 'archive']) expect(readdirSync(stack.config.sites[site].staging), `${site} staging`).toEqual([]);
    expect(stack.vintageCourseIds().sort((a, b) => a - b)).toEqual([tagged, broken].sort((a, b) => a - b));
    expect(await stack.catalog.find('prod', broken)).toBeNull();
    expect(stack.sim.sites.archive.store.data.courses.some((c) => marksArchiveOf(c.idnumber, 'prod', broken))).toBe(false);
  });
});

describe("a session whose course already has a copy in another session's category", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 2 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('restores its own copy where it restores, and leaves the other one alone', async () => {
    const [id] = stack.vintageCourseIds();
    const archive = stack.sim.sites.archive.store;
    const archived = new Set(archive.subtree(stack.archivesCategoryId).map((c) => c.id));
    const elsewhere = archive.data.categories.find((c) => !archived.has(c.id))!;
    // Another session (of an older archiver: its mark names no backup) archived this course into another category earlier.
    const theirs = { ...structuredClone(stack.sim.sites.prod.store.course(id)!), id: archive.newId('course'), category: elsewhere.id };
    theirs.idnumber = `archive:prod:${id}`;
    archive.data.courses.push(theirs);
    archive.save();

    const result = await stack.runSession(stack.sessionInput({ deleteSource: false, mirrorSubcategories: false }));

    expect(result.counts).toMatchObject({ succeeded: 2, failed: 0 });
    // Restore renamed it (X_1): the other copy holds the shortname.
    const ours = archive.data.courses.filter((c) => c.category === stack.archivesCategoryId && c.shortname.startsWith(theirs.shortname));
    expect(ours).toHaveLength(1);
    expect(marksArchiveOf(ours[0].idnumber, 'prod', id)).toBe(true);
    expect((await stack.catalog.find('prod', id))!.targetCourseId).toBe(ours[0].id);
    expect(archive.course(theirs.id)).toMatchObject({ category: elsewhere.id, idnumber: `archive:prod:${id}` });
  });
});
