// `plan` against real parts: it reads the selection and the catalog through
// the workers, and a session run on the same criteria then archives exactly
// the courses the plan said it would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { runPlan } from '../client/plan';
import { wildcard } from '../activities/select';
import { WindowCalendar } from '../workflows/windows';
import type { PlanReport } from '../workflows/plan';
import { archiverCli, cliFailure, startStack, type Stack } from './harness';
import { teacherEdit } from '../simulator/teacher-edits';

describe('plan: a dry run of a session with several roots, single courses and exclusions', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 12 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('lists what a session would archive, skip and leave out, predicts it in the windows, and the session does just that', async () => {
    const prod = stack.sim.sites.prod.store;
    const nextVintage = prod.data.categories.find((c) => c.idnumber === '2025-2026')!.id;
    const nextCourses = prod.coursesUnder(nextVintage);
    // A first session archives the next vintage but one of its courses, and keeps the sources.
    const keptOut = nextCourses[0];
    const firstInput = stack.sessionInput({
      sourceCategoryId: nextVintage,
      deleteSource: false,
      selection: { excludeShortnames: [keptOut.shortname.toLowerCase()] },
    });
    const first = await stack.runSession(firstInput);
    expect(first.counts.succeeded).toBe(nextCourses.length - 1);
    expect(first.excluded).toBe(1);

    // The vintage, plus the next vintage's category, less the courses whose shortname starts like the first one's.
    const vintage = prod.coursesUnder(stack.vintageCategoryId);
    const pattern = `${vintage[0].shortname.slice(0, 2)}*`;
    const excluded = vintage.filter((c) => c.shortname.toUpperCase().startsWith(vintage[0].shortname.slice(0, 2).toUpperCase()));
    expect(excluded.length).toBeGreaterThan(0);
    const windows = { timezone: 'Europe/Paris', windows: [{ days: 'mon-fri', from: '19:00', to: '23:00' }] };
    const criteria = stack.sessionInput({
      concurrency: 2,
      deleteSource: false,
      windows,
      selection: { moreCategoryIds: [nextVintage], excludeShortnames: [pattern] },
    });
    // A teacher edits one of the archived courses since: it is to be archived again, not skipped.
    const edited = nextCourses[1];
    teacherEdit(prod, edited.id, 'section');
    const startAt = '2026-11-30T12:00:00+01:00'; // a Monday noon in Paris: the first window opens at 19:00
    const report: PlanReport = await runPlan(stack.client, stack.config, { ...criteria, startAt });

    const byAction = (a: string) =>
      report.courses
        .filter((c) => c.action === a)
        .map((c) => c.courseId)
        .sort((x, y) => x - y);
    expect(byAction('excluded')).toEqual(excluded.map((c) => c.id).sort((x, y) => x - y));
    expect(byAction('already-archived')).toEqual(
      nextCourses
        .slice(2)
        .map((c) => c.id)
        .sort((x, y) => x - y),
    );
    const toArchive = [...vintage.filter((c) => !excluded.includes(c)), keptOut, edited].map((c) => c.id).sort((x, y) => x - y);
    expect(byAction('archive')).toEqual(toArchive);
    expect(report.courses.find((c) => c.action === 'already-archived')!.reason).toContain(`session ${firstInput.session}`);
    expect(report.totals).toMatchObject({
      toArchive: toArchive.length,
      alreadyArchived: nextCourses.length - 2,
      excluded: excluded.length,
    });
    expect(report.totals.bytes).toBeGreaterThan(0);

    // Every planned course starts and ends inside a window, two at a time at most.
    const calendar = new WindowCalendar(windows, undefined, Date.parse(startAt));
    const planned = report.courses.filter((c) => c.action === 'archive');
    for (const c of planned) {
      expect(c.predictedSeconds).toBeGreaterThan(0);
      const s = Date.parse(c.plannedStart!);
      expect(calendar.at(s).open, `course ${c.courseId} starts in a window`).toBe(true);
      expect(Date.parse(c.plannedEnd!) - s).toBeGreaterThanOrEqual((c.predictedSeconds! - 0.5) * 1000);
      expect(planned.filter((o) => Date.parse(o.plannedStart!) <= s && Date.parse(o.plannedEnd!) > s).length).toBeLessThanOrEqual(2);
    }
    expect(Date.parse(report.prediction.start)).toBe(Date.parse(startAt));
    expect(Math.min(...planned.map((c) => Date.parse(c.plannedStart!)))).toBe(Date.parse('2026-11-30T19:00:00+01:00'));
    expect(report.prediction.windowsNeeded).toBe(calendar.periods(Date.parse(startAt), Date.parse(report.prediction.end)).length);
    expect(report.prediction.windowsNeeded).toBeGreaterThanOrEqual(1);

    // The CLI: the same plan as CSV (one row per course) and as a table.
    const base = [
      '--source-site',
      'prod',
      '--category',
      String(stack.vintageCategoryId),
      '--target-site',
      'archive',
      '--target-category',
      String(stack.archivesCategoryId),
      '--also-category',
      String(nextVintage),
      '--exclude-shortname',
      pattern,
      '--window',
      'mon-fri 19:00-23:00',
      '--timezone',
      windows.timezone,
      '--concurrency',
      '2',
      '--start',
      startAt,
    ];
    const rows = parse(await archiverCli(stack, ['plan', ...base, '--format', 'csv']), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => Number(r.courseId))).toEqual(report.courses.map((c) => c.courseId));
    expect(rows.filter((r) => r.action === 'archive').map((r) => r.plannedStart)).toEqual(planned.map((c) => c.plannedStart));
    const text = await archiverCli(stack, ['plan', ...base]);
    expect(text).toContain(`${toArchive.length} to archive`);
    expect(text).toContain(`${report.prediction.windowsNeeded} window(s)`);

    // The session on the same criteria (without windows, to finish now) archives exactly the planned courses.
    const run = stack.sessionInput({ deleteSource: false, selection: criteria.selection });
    const result = await stack.runSession(run);
    // The already-archived ones are skipped by prepare, as the plan said.
    expect(result.counts).toMatchObject({ succeeded: toArchive.length, skipped: nextCourses.length - 2, failed: 0 });
    expect(result.excluded).toBe(excluded.length);
    const archivedNow = (await stack.catalog.listSession(run.session)).map((r) => r.sourceCourseId);
    expect(archivedNow).toEqual(toArchive);
    for (const c of excluded) expect(await stack.catalog.find('prod', c.id)).toBeNull();
    // A course of the other root lands in the mirror of its own place below that root.
    const copy = stack.sim.sites.archive.store.data.courses.find((c) => c.shortname === keptOut.shortname)!;
    const expectedName = keptOut.category === nextVintage ? 'Archives' : prod.category(keptOut.category)!.name;
    expect(stack.sim.sites.archive.store.category(copy.category)!.name).toBe(expectedName);
  });

  it('names a category or a course that does not exist, with exit 2', async () => {
    const args = (extra: string[]) => [
      'plan',
      '--source-site',
      'prod',
      '--target-site',
      'archive',
      '--target-category',
      String(stack.archivesCategoryId),
      ...extra,
    ];
    const fail = (extra: string[]) => cliFailure(archiverCli(stack, args(extra)));
    expect(await fail(['--category', '99999'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('category: category 99999 does not exist on prod'),
    });
    expect(await fail(['--category', String(stack.vintageCategoryId), '--course', `99998,${stack.vintageCourseIds()[0]}`])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('selection.courseIds: course 99998 does not exist on prod; remove it from the list'),
    });
    // Course 1 is the front page (the simulator's sites start without it): never archived, nor deleted.
    const prod = stack.sim.sites.prod.store;
    prod.data.courses.push({
      ...structuredClone(prod.data.courses[0]),
      id: 1,
      category: 0,
      format: 'site',
      shortname: 'moodle',
      fullname: 'Moodle',
      idnumber: '',
    });
    expect(await fail(['--category', String(stack.vintageCategoryId), '--course', '1'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("selection.courseIds: course 1 is the site's front page"),
    });
    expect(await fail(['--category', String(stack.vintageCategoryId), '--course', '12,abc'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--course: "12,abc" is not a list of ids'),
    });
  });

  it('matches exclusion patterns on the whole value, in any case', () => {
    expect(wildcard('*-sandbox').test('MATH-SANDBOX')).toBe(true);
    expect(wildcard('MATH?').test('math1')).toBe(true);
    expect(wildcard('MATH?').test('MATH12')).toBe(false);
    expect(wildcard('a.b').test('axb')).toBe(false);
  });
});
