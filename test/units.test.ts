// Pure logic, no servers: the session's state rules, verification, the
import { execFileSync } from 'node:child_process';
import { DateTime } from 'luxon';
import { vintageAt, vintageRuleProblems, type VintageRule } from '../workflows/vintage';
// simulator's parameter validation, secret scrubbing.
import { describe, expect, it } from 'vitest';
import { countPhases, coursesPerHour, sessionProgress } from '../workflows/session-progress';
import { SessionState } from '../workflows/session-state';
import { shapeDifferences, type CourseShape } from '../activities/course-shape';
import { decodePhpForm, InvalidParameter, multiple, single, validateParameters, value } from '../simulator/params';
import { scrubSecrets } from '../activities/logger';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { backupInfoReader, readBackupInfo } from '../activities/mbz-info';
import { backupDifferences } from '../activities/postprocess';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { FIXTURES } from './fixture-site';
import { asFailure } from '../activities/failures';
import { MoodleError } from '../activities/moodle/errors';
import { SCRIPT_ATTEMPTS } from '../contract';
import { namedFolder, stagingPath } from '../activities/safe-path';
import type { Client } from '@temporalio/client';
import { busyReason, whileBusy } from '../client/busy';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../workers/node-flags';
import { inert } from '../client/inert';
import { renderStatus, table } from '../client/render';
import type { SessionStatus } from '../client/sessions';
import { parse } from 'csv-parse/sync';
import { reportCsv, reportHtml } from '../client/report';
import { renderPlan } from '../client/plan';
import type { SessionReport } from '../client/inspect';
import type { PlanReport } from '../workflows/plan';

/** A selection page of these course ids (sizes unknown), with `after` more courses behind it. */
const page = (ids: number[], after = 0, done = after === 0) => ({
  courses: ids.map((courseId) => ({ courseId, bytes: 0, activities: 0 })),
  remaining: ids.length + after,
  nextAfter: ids[ids.length - 1] ?? 0,
  done,
});
const course = (courseId: number) => ({ courseId, bytes: 0, activities: 0 });

describe('SessionState', () => {
  const boom = { phase: 'backup', errorType: 'X', message: 'boom' };

  it('bounds the window, counts outcomes once, and lists failures', () => {
    const s = SessionState.initial(0, { concurrency: 2 });
    s.selected(page([5, 9, 12]), 0);
    s.started(course(5), 1);
    s.started(course(9), 2);
    expect(s.canStart()).toBe(false);
    expect(s.finished({ courseId: 5, status: 'succeeded' }, 3)).toBe(true);
    expect(s.finished({ courseId: 5, status: 'succeeded' }, 3)).toBe(false); // duplicate report
    expect(s.finished({ courseId: 42, status: 'failed' }, 3)).toBe(false); // not ours
    expect(s.canStart()).toBe(true);
    s.finished({ courseId: 9, status: 'failed', failure: boom }, 4);
    expect(s.data.cursor).toBe(12);
    expect(sessionProgress(s, 5)).toMatchObject({
      done: 2,
      running: 0,
      pending: 1,
      percent: 66.6,
      counts: { succeeded: 1, failed: 1, skipped: 0 },
    });
    expect(sessionProgress(s, 5).failed).toEqual([{ courseId: 9, bytes: 0, activities: 0, ...boom, at: new Date(4).toISOString() }]);
    s.data.paused = true;
    expect(s.canStart()).toBe(false);
    expect(sessionProgress(s, 5).state).toBe('paused');
    s.data.paused = false;
    s.data.concurrency = 0;
    expect(s.canStart()).toBe(false);
  });

  it('takes back a course whose start was cancelled before its workflow existed: nothing waits for its report', () => {
    const s = SessionState.initial(0, { concurrency: 2 });
    s.selected(page([5, 9]), 0);
    s.started(course(5), 1);
    s.notStarted(5);
    expect(s.inFlightCount).toBe(0);
    expect(s.data.pool.map((c) => c.courseId)).toEqual([5, 9]);
    expect(s.finished({ courseId: 5, status: 'cancelled' }, 2)).toBe(false);
  });

  it('starts pool courses in selection order when the session has no windows, and reads a page when the pool is empty', () => {
    const s = SessionState.initial(0, { concurrency: 5 });
    expect(s.nextStep(0)).toEqual({ kind: 'select' });
    s.selected(page([3, 4], 10, false), 0);
    expect(s.data.total).toBe(12);
    expect(s.nextStep(0)).toEqual({ kind: 'start', course: course(3), overflows: false });
  });

  it('counts running courses per phase from their search attribute, and those held between phases', () => {
    const s = SessionState.initial(0, { concurrency: 5 });
    s.selected(page([1, 2, 3, 4, 5]), 0);
    for (const id of [1, 2, 3, 4, 5]) s.started(course(id), 0);
    s.phaseChanged(4, 'waiting');
    s.phaseChanged(99, 'waiting'); // not ours
    // As visibility lists them: 4 is held (its attribute still names its last phase), 5 not listed yet, 7 already counted done.
    const listed = new Map<number, string>([
      [1, 'backup'],
      [2, 'backup'],
      [3, 'restore'],
      [4, 'transport'],
      [7, 'cleanup'],
    ]);
    const progress = sessionProgress(s, 0);
    const phases = countPhases(progress, (id) => listed.get(id));
    expect(phases).toEqual({
      // 5, just started, is not listed yet: it is in prepare, so the column adds up to the running courses.
      prepare: 1,
      backup: 2,
      transport: 0,
      restore: 1,
      postprocess: 0,
      cleanup: 0,
    });
    expect(progress.waiting).toBe(1);
    expect(Object.values(phases).reduce((a, b) => a + b, 0) + progress.waiting).toBe(progress.running);
  });

  it('status shows running and failed courses with their shortnames, and an admin script line without host paths', () => {
    const s = SessionState.initial(0, { concurrency: 5 });
    s.selected(page([1, 2]), 0);
    for (const id of [1, 2]) s.started(course(id), 0);
    const progress = sessionProgress(s, 1000);
    const text = renderStatus('s1', {
      ...progress,
      failed: [
        { courseId: 9, phase: 'backup', errorType: 'Moodle:backup-failed', message: 'backup.php exited 1', shortname: 'CHEM9-2024' },
      ],
      phases: countPhases(progress, () => 'backup'),
      courses: [
        {
          courseId: 1,
          phase: 'backup',
          status: 'running',
          retries: 0,
          rearchives: 0,
          facts: { shortname: 'HIST1-2024' },
          activity: {
            name: 'backupCourse',
            started: true,
            attempt: 1,
            maximumAttempts: 3,
            line: 'Writing /var/moodledata/temp/backup/3f2a/course.mbz',
          },
        },
      ],
    } as unknown as SessionStatus);
    expect(text).toMatch(/^\s+1\s+HIST1-2024\s+backup\s/m);
    expect(text).toContain('course 9 (CHEM9-2024): backup Moodle:backup-failed');
    expect(text).toContain('Writing …/course.mbz');
    expect(text).not.toContain('/var/');
  });

  it('derives courses per hour from the last hour only, and an ETA from it', () => {
    const min = 60_000;
    const s = SessionState.initial(0, { concurrency: 200 });
    s.selected(page(Array.from({ length: 200 }, (_, i) => i + 1)), 0);
    // 60 courses in the first half hour, 30 in the second hour.
    for (let i = 1; i <= 60; i++) {
      s.started(course(i), 0);
      s.finished({ courseId: i, status: 'succeeded' }, i * 30_000);
    }
    expect(coursesPerHour(s, 30 * min)).toBe(120);
    for (let i = 61; i <= 90; i++) {
      s.started(course(i), 0);
      s.finished({ courseId: i, status: 'succeeded' }, 60 * min + (i - 60) * 2 * min);
    }
    const p = sessionProgress(s, 120 * min);
    expect(p.coursesPerHour).toBe(30);
    // 110 courses left at 30 an hour: 3 h 40 min from now.
    expect(p.eta).toBe(new Date(120 * min + (110 / 30) * 60 * min).toISOString());
    expect(p.percent).toBe(45);
  });

  it('retries failed courses and skips failed or pending ones, refusing the others with a reason', () => {
    const s = SessionState.initial(0, { concurrency: 5 });
    s.selected(page([1, 2, 3, 4], 6, false), 0);
    for (const id of [1, 2, 3]) s.started(course(id), 0);
    s.finished({ courseId: 1, status: 'failed', failure: boom }, 1);
    s.finished({ courseId: 2, status: 'failed', failure: boom }, 1);
    expect(s.retryProblems([3])).toEqual(['course 3 is not a failed course of this session (in flight (phase: starting))']);
    expect(s.retryProblems([1])).toEqual([]);
    expect(s.retry([1])).toEqual([1]);
    expect(sessionProgress(s, 2).queuedForRetry).toEqual([1]);
    expect(sessionProgress(s, 2)).toMatchObject({ done: 1, pending: 8, counts: { failed: 1 } });
    // The retried course goes first, and resumes at the phase that failed.
    expect(s.nextStep(2)).toMatchObject({ kind: 'start', course: { courseId: 1, retryFrom: 'backup' } });

    expect(s.skipProblems([3])).toEqual(['course 3 cannot be skipped: it is in flight (phase: starting)']);
    expect(s.skipProblems([2, 4, 7])).toEqual([]);
    expect(s.markSkipped([2, 4, 7], 3)).toEqual([2]);
    expect(sessionProgress(s, 3).toSkip).toEqual([7]);
    expect(sessionProgress(s, 3)).toMatchObject({ counts: { failed: 0, skipped: 2 }, failed: [] });
    // 7 is skipped when selection reaches it.
    s.selected(page([7, 8]), 4);
    expect(s.data.pool.map((c) => c.courseId)).toEqual([1, 8]);
    expect(sessionProgress(s, 4).counts.skipped).toBe(3);
    expect(s.retryProblems()).toEqual(['no failed course to retry']);
  });

  it('is finished once settled with no failure, or when the decision deadline has passed', () => {
    const s = SessionState.initial(0);
    s.selected(page([1]), 0);
    s.started(course(1), 0);
    s.finished({ courseId: 1, status: 'failed', failure: boom }, 1);
    expect(sessionProgress(s, 2)).toMatchObject({ state: 'awaiting-decisions', finished: false });
    s.data.decisionDeadline = 10;
    expect(sessionProgress(s, 10)).toMatchObject({ state: 'finished', finished: true, percent: 100 });
  });
});

describe('verification', () => {
  const shape: CourseShape = {
    sectionCount: 4,
    activityCount: 3,
    activitiesByType: { forum: 1, resource: 2 },
    fileCount: 2,
    declaredBytes: 1000,
  };
  it('finds nothing to say about an identical copy', () => {
    expect(shapeDifferences(shape, structuredClone(shape))).toEqual([]);
  });
  it('names each difference', () => {
    const copy = { ...shape, activitiesByType: { forum: 1, resource: 1 }, activityCount: 2, declaredBytes: 999 };
    expect(shapeDifferences(shape, copy)).toEqual([
      'activities: source 3, archive 2',
      'resource activities: source 2, archive 1',
      'file bytes: source 1000, archive 999',
    ]);
  });
});

describe('what a backup says of its course (moodle_backup.xml), on real Moodle 4.5 backups', () => {
  const mbz = join(FIXTURES, 'mbz', 'backup-moodle2-course-2-arch101-20261124-1051.mbz');
  const course = { courseId: 2 } as PhaseRequest['course'];
  const source: CourseFacts = {
    shortname: 'ARCH101',
    fullname: 'Introduction to Archiving',
    sectionCount: 4,
    activitiesByType: { forum: 2, page: 1, label: 1, resource: 1, url: 1, assign: 1 },
  };
  it("reads it out of the gzip'd tar, where Moodle writes it after files/", async () => {
    expect(await readBackupInfo(mbz)).toEqual({
      originalCourseId: 2,
      shortname: 'ARCH101',
      fullname: 'Introduction to Archiving',
      moodleRelease: '4.5.11+ (Build: 20260501)',
      sectionCount: 4,
      activitiesByType: { forum: 2, page: 1, label: 1, resource: 1, url: 1, assign: 1 },
    });
  });
  it('agrees with the source course it was made from, and names each disagreement', async () => {
    const backupInfo = await readBackupInfo(mbz);
    expect(backupDifferences(course, { ...source, backupInfo })).toEqual([]);
    expect(
      backupDifferences(
        { ...course, courseId: 3 },
        { ...source, shortname: 'ARCH201', activitiesByType: { ...source.activitiesByType, quiz: 1 }, backupInfo },
      ),
    ).toEqual(['the backup is of course 2, not 3', 'backup shortname "ARCH101", source "ARCH201"', 'backup quiz activities 0, source 1']);
  });
  it('refuses a file that is not a backup', async () => {
    await expect(readBackupInfo(join(FIXTURES, 'moodle_backup.xml'))).rejects.toThrow(/is not a readable \.mbz/);
  });
  it('reads it as the bytes arrive, and a damaged backup fails that read once, with nothing left uncaught', async () => {
    const bytes = readFileSync(mbz);
    const arriving = (b: Buffer) => {
      const reader = backupInfoReader();
      for (let i = 0; i < b.length; i += 512) reader.sink.write(b.subarray(i, i + 512));
      reader.sink.end();
      return reader.info;
    };
    expect((await arriving(bytes)).originalCourseId).toBe(2);
    for (const at of [1000, bytes.length - 6]) {
      // inside an entry's data; the gzip trailer's CRC
      const damaged = Buffer.from(bytes);
      damaged[at] ^= 0xff;
      await expect(arriving(damaged)).rejects.toThrow(/is not a readable \.mbz \(gzip'd tar\): /);
    }
  });
});

describe("Moodle's parameter validation (simulator)", () => {
  const desc = { courses: multiple(single({ id: value('int') })) };
  it('decodes PHP bracket notation', () => {
    expect(
      decodePhpForm([
        ['courses[0][id]', '5'],
        ['courses[1][id]', '7'],
      ]),
    ).toEqual({ courses: { 0: { id: '5' }, 1: { id: '7' } } });
    expect(validateParameters(desc, decodePhpForm([['courses[0][id]', '5']]))).toEqual({ courses: [{ id: 5 }] });
  });
  it('rejects what Moodle rejects, with its messages', () => {
    const fails = (pairs: [string, string][]) => {
      try {
        validateParameters(desc, decodePhpForm(pairs));
      } catch (e) {
        return (e as InvalidParameter).debuginfo;
      }
      return 'accepted';
    };
    expect(fails([['courses[0][id]', 'abc']])).toMatch(/the value is "abc", the server was expecting "int" type/);
    expect(fails([['courses', '5,7']])).toMatch(/Only arrays accepted. The bad value is: '5,7'/);
    expect(
      fails([
        ['courses[0][id]', '5'],
        ['extra', '1'],
      ]),
    ).toMatch(/Unexpected keys \(extra\)/);
    expect(fails([])).toMatch(/Missing required key in single structure: courses/);
  });
});

describe('secret scrubbing', () => {
  it('masks tokens in query strings and form bodies', () => {
    expect(scrubSecrets('POST wstoken=abc123&wsfunction=x and ?token=def456 end')).toBe(
      'POST wstoken=[REDACTED]&wsfunction=x and ?token=[REDACTED] end',
    );
  });
});

describe('the vintage a schedule resolves when it fires', () => {
  const paris = (iso: string) => DateTime.fromISO(iso, { zone: 'Europe/Paris' }).toMillis();
  const rule: VintageRule = { pattern: '{yearStart}-{yearEnd}', yearsBack: 1, match: 'name', timezone: 'Europe/Paris' };

  it("is the academic year before the current one, which changes in its start month, in the rule's zone", () => {
    expect(vintageAt(rule, paris('2026-07-01T20:00'))).toBe('2024-2025');
    expect(vintageAt(rule, paris('2026-08-31T23:59'))).toBe('2024-2025');
    expect(vintageAt(rule, paris('2026-09-01T00:00'))).toBe('2025-2026');
    // 31 August 23:30 UTC is already 1 September in Paris.
    expect(vintageAt(rule, Date.parse('2026-08-31T23:30:00Z'))).toBe('2025-2026');
    expect(vintageAt({ ...rule, yearsBack: 2, startMonth: 1, pattern: 'Year {yearStart}' }, paris('2026-03-01T00:00'))).toBe('Year 2024');
  });

  it('follows an explicit list by date, and has none before its first date', () => {
    const list: VintageRule = {
      list: [
        { from: '2026-07-01', vintage: '2023-2024' },
        { from: '2027-07-01', vintage: '2025-2026' },
      ],
      match: 'idnumber',
      timezone: 'Europe/Paris',
    };
    expect(vintageAt(list, paris('2026-06-30T23:00'))).toBeNull();
    expect(vintageAt(list, paris('2026-07-01T00:00'))).toBe('2023-2024');
    expect(vintageAt(list, paris('2027-07-01T20:00'))).toBe('2025-2026');
  });

  it('names the field and the fix for each mistake', () => {
    expect(vintageRuleProblems({ ...rule, pattern: 'Archives' })).toEqual([
      expect.stringMatching(/^vintageRule\.pattern: "Archives" names no year/),
    ]);
    expect(vintageRuleProblems({ ...rule, list: [{ from: '2026-07-01', vintage: 'x' }] })[0]).toMatch(/not both/);
    expect(vintageRuleProblems({ ...rule, startMonth: 13, yearsBack: -1, timezone: 'Paris' })).toHaveLength(3);
    expect(
      vintageRuleProblems({
        match: 'name',
        timezone: 'UTC',
        list: [
          { from: '2027-07-01', vintage: 'a' },
          { from: '2026-07-01', vintage: 'b' },
        ],
      })[0],
    ).toMatch(/list\[1\]\.from: dates must increase/);
  });
});

describe('how many times a failure is tried', () => {
  const script = new MoodleError('host-command-failed', 'prod', 'backup.php', 'exit 1: Error reading from database');
  it('an admin script that fails is given up after SCRIPT_ATTEMPTS, however many attempts the phase allows', () => {
    expect(asFailure(script, SCRIPT_ATTEMPTS - 1)).toMatchObject({ nonRetryable: false, type: 'Moodle:host-command-failed' });
    expect(asFailure(script, SCRIPT_ATTEMPTS)).toMatchObject({ nonRetryable: true, message: expect.stringMatching(/\(failed 3 times\)$/) });
  });
  it('a site that is down or slow is retried for as long as the phase allows', () => {
    const down = new MoodleError('transient', 'prod', 'core_files_get_files', 'HTTP 503');
    expect(asFailure(down, 9)).toMatchObject({ nonRetryable: false, type: 'Moodle:transient' });
  });
});

describe('paths from untrusted names', () => {
  const root = '/srv/staging/prod';
  it('takes a backup file name (any script), or a session folder and one, inside the staging folder', () => {
    expect(stagingPath(root, 'backup-moodle2-course-12-maths-20261203-1614.mbz')).toBe(
      `${root}/backup-moodle2-course-12-maths-20261203-1614.mbz`,
    );
    expect(stagingPath(root, 's-2024-2025/backup-moodle2-course-12-café-20261203-1614.mbz')).toBe(
      `${root}/s-2024-2025/backup-moodle2-course-12-café-20261203-1614.mbz`,
    );
  });
  it.each([
    ['../x.mbz'],
    ['/etc/x.mbz'],
    ['a/../../x.mbz'],
    ['s/t/x.mbz'],
    ['..'],
    ['x.mbz\u0000'],
    ['x\u202e.mbz'],
    ['x\u001b[2J.mbz'],
    ['..\\..\\x.mbz'],
    ['x.php'],
    [''],
    ['.s/x.mbz'],
  ])('refuses %j before anything is written or deleted', (name) => {
    expect(() => stagingPath(root, name)).toThrow(/nothing was written or deleted/);
  });
  it('takes a session folder only by a session name of ours', () => {
    expect(namedFolder(root, '2024-2025.s1', 'session name')).toBe(`${root}/2024-2025.s1`);
    // A scheduled session's name: its schedule id and fire time.
    expect(namedFolder(root, 'vintage-prod-2026-07-01T18:00:00Z', 'session name')).toBe(`${root}/vintage-prod-2026-07-01T18:00:00Z`);
    for (const bad of ['..', '.', '../prod', 'a/b', '', '-x', 'é'])
      expect(() => namedFolder(root, bad, 'session name'), bad).toThrow(/session name .* is not a safe folder name/);
    expect(() => stagingPath(root, '../x/../../x.mbz')).toThrow(/nothing was written or deleted/);
  });
});

describe('a busy server or a missing worker (client/busy.ts)', () => {
  const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  const clientWith = (pollers: unknown[]) =>
    ({ options: { namespace: 'default' }, workflowService: { describeTaskQueue: async () => ({ pollers }) } }) as unknown as Client;

  it('says so in one line naming the queue, and tries again until the call answers', async () => {
    const lines: string[] = [];
    let calls = 0;
    const answer = await whileBusy(
      { client: clientWith([]), what: 'reading session s', queue: 'archive-main', say: (l) => lines.push(l) },
      async () => {
        if (++calls < 3) throw new Error('query failed', { cause: grpcError(4, 'context deadline exceeded') });
        return 'progress';
      },
    );
    expect(answer).toBe('progress');
    expect(lines).toEqual([
      'reading session s: no worker polls queue "archive-main": start one (moodle-archiver\'s worker, npm run worker); trying again in 1 s',
      'reading session s: no worker polls queue "archive-main": start one (moodle-archiver\'s worker, npm run worker); trying again in 2 s',
    ]);
  });

  it('with a worker polling, calls it busy; anything else is no busy error and goes through at once', async () => {
    const lines: string[] = [];
    let calls = 0;
    await whileBusy({ client: clientWith([{ identity: 'w' }]), what: 'pausing s', queue: 'q', say: (l) => lines.push(l) }, async () => {
      if (++calls < 2) throw grpcError(8, 'resource exhausted');
    });
    expect(lines).toEqual(['pausing s: the server is busy; trying again in 1 s']);
    const refused = new Error('Session s is not running');
    await expect(
      whileBusy({ client: clientWith([]), what: 'x', queue: 'q', say: (l) => lines.push(l) }, () => Promise.reject(refused)),
    ).rejects.toBe(refused);
    expect(busyReason(grpcError(5, 'not found'))).toBeUndefined();
  });

  it('gives up after its time with one line naming why', async () => {
    await expect(
      whileBusy({ client: clientWith([]), what: 'reading session s', queue: 'archive-main', say: () => undefined, withinMs: 500 }, () =>
        Promise.reject(grpcError(4, 'deadline')),
      ),
    ).rejects.toThrow(
      'reading session s: no worker polls queue "archive-main": start one (moodle-archiver\'s worker, npm run worker); gave up',
    );
  });
});

describe('the plan as text (client/plan.ts)', () => {
  it('shows a prediction under a minute in seconds, not rounded to a tenth of an hour', () => {
    const plan = {
      criteria: {
        sourceSiteId: 'prod',
        categoryIds: [3],
        includeSubcategories: true,
        courseIds: [],
        targetSiteId: 'archive',
        targetCategoryId: 4,
        excludeShortnames: [],
        excludeIdnumbers: [],
        windows: 'none',
        concurrency: 2,
      },
      totals: { selected: 2, toArchive: 2, bytes: 2e6, alreadyArchived: 0, excluded: 0 },
      prediction: { start: '2026-12-04T10:00:00.000Z', end: '2026-12-04T10:00:40.000Z', elapsedHours: 0, windowsNeeded: 0, oversized: [] },
      courses: [{ courseId: 1, shortname: 'A', categoryId: 3, bytes: 1e6, activities: 2, action: 'archive', predictedSeconds: 20 }],
    } as unknown as PlanReport;
    expect(renderPlan(plan, 'table')).toMatch(/Predicted: from .* to .* \(40 s\), no windows/);
  });
});

describe("the CLI's time zone", () => {
  it("defaults to this machine's (TZ), for the windows and a schedule's times", () => {
    for (const zone of ['Asia/Tokyo', 'America/New_York']) {
      const help = execFileSync(process.execPath, ['dist/cli.mjs', 'schedule', 'create', '--help'], {
        env: { ...process.env, TZ: zone },
        encoding: 'utf8',
      });
      expect(help.replace(/\s+/g, ' ')).toContain(
        `--timezone <zone> time zone of the windows and a schedule's times (IANA name) (default: "${zone}")`,
      );
    }
  });
});

describe('how a worker process runs (workers/node-flags.ts)', () => {
  it('npm run worker starts the build with the same memory flags and environment as the rig and the bench', () => {
    const script = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> })
      .scripts.worker;
    const env = Object.entries(WORKER_ENV).map(([k, v]) => `${k}=${v}`);
    expect(script.split(' ')).toEqual([...env, 'node', ...WORKER_NODE_FLAGS, 'dist/worker.mjs']);
  });
});

describe('CSV written from Moodle data is inert in a spreadsheet (client/csv.ts)', () => {
  // Each cell a spreadsheet could run as a formula, as a course name or a Moodle message may hold it.
  const HOSTILE = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", '-2+3', '@SUM(A1)', '\t=1', '\r=1', '＝1'];
  const cells = (csv: string) => parse(csv, { columns: true }) as Record<string, string>[];

  const base = { status: 'failed', execution: 'x', startedAt: '', closedAt: null, seconds: -5, failedPhase: '', mbzBytes: null };

  it('report and plan prefix every such cell with a quote, and keep numbers and plain names as they are', () => {
    const report = {
      courses: [...HOSTILE, 'Plain name'].map((name, i) => ({
        ...base,
        courseId: i + 1,
        shortname: name,
        fullname: name,
        reason: name,
        targetCourseId: null,
        sourceDeleted: null,
        link: '',
      })),
    } as unknown as SessionReport;
    const planned = {
      courses: [...HOSTILE, 'Plain name'].map((name, i) => ({
        courseId: i + 1,
        shortname: name,
        categoryId: 3,
        bytes: 0,
        activities: 0,
        action: 'excluded',
        reason: name,
      })),
    } as unknown as PlanReport;
    for (const rows of [cells(reportCsv(report)), cells(renderPlan(planned, 'csv'))]) {
      HOSTILE.forEach((name, i) => {
        expect(rows[i].shortname).toBe(`'${name}`);
        expect(rows[i].reason).toBe(`'${name}`);
      });
      expect(rows[HOSTILE.length].shortname).toBe('Plain name');
    }
    expect(cells(reportCsv(report))[0].seconds).toBe('-5');
  });

  it('the HTML report shows markup in names and messages as text', () => {
    const evil = '<script>alert(1)</script><img src=x onerror="alert(2)">';
    const course = {
      ...base,
      courseId: 1,
      shortname: evil,
      fullname: evil,
      reason: evil,
      failedPhase: 'backup',
      targetCourseId: null,
      sourceDeleted: null,
      link: 'http://ui/x',
    };
    const html = reportHtml({
      session: evil,
      vintage: evil,
      execution: 'Completed',
      state: 'completed',
      link: 'http://ui/s',
      progress: null,
      startedAt: '2026-01-01T00:00:00.000Z',
      closedAt: null,
      courses: [{ ...course, status: 'succeeded', closedAt: '2026-01-01T00:10:00.000Z' }],
      generatedAt: '2026-01-01T00:00:00.000Z',
      // In the scope, the reason a session stopped and the pictures (a host's name) too.
      scope: {
        sourceSiteId: 'prod',
        sourceCategoryId: 3,
        sourceCategoryName: evil,
        targetSiteId: 'archive',
        targetCategoryId: 4,
        deleteSource: true,
      },
      stoppedReason: evil,
      phases: [{ courseId: 1, phase: 'backup', host: evil, seconds: 5, mb: 2 }],
    } as unknown as SessionReport);
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html.match(/<svg/g)).toHaveLength(3);
  });
});

describe('what the CLI prints from Moodle is inert (client/inert.ts)', () => {
  it('shows escapes, carriage returns, C1 controls and bidi overrides as codes; a cell cannot start a row', () => {
    expect(inert('a\x1b[2Jb\rc\u009bd\u202ee\u2066f\n')).toBe('a\\u001b[2Jb\\u000dc\\u009bd\\u202ee\\u2066f\n');
    expect(inert('Économie — cours 1 ✓')).toBe('Économie — cours 1 ✓');
    expect(table(['name'], [['x\ny'], ['ok']])).toEqual(['  name', '  x\\u000ay', '  ok']);
  });
});
