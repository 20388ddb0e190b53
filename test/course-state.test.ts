// One course's state and rules: the plain class on its own, then the course
// workflow over it on the shared test server, with stub activities on the
// three queues a course uses (no Moodle, no catalog).
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PhaseStepActivities } from '../activities';
import { runningSteps } from '../activities/step-runs';
import { siteQueue } from '../contract';
import { CourseState, MAX_ARCHIVES_WHILE_EDITED } from '../workflows/course-state';
import { courseDecisionSignal, courseProgressQuery } from '../workflows/messages';
import { EARLIER_PHASES, PHASE_NAMES, PHASES, type PhaseActivityName, type QueueRole } from '../workflows/phases';

type Step = { activity: PhaseActivityName; queue: QueueRole };
import type { CourseFacts, CourseInput, StepRecord } from '../workflows/types';
import { until } from './harness';
import { testNamespace } from './namespace';

const names = (course: CourseState) => [...course.phasesToRun()].map((p) => p.name);

describe('CourseState', () => {
  it('runs every phase in the table order, and stops after prepare when the course needs no work', () => {
    expect(names(new CourseState(1))).toEqual(PHASE_NAMES);
    const done = new CourseState(1);
    const seen: string[] = [];
    for (const phase of done.phasesToRun()) {
      seen.push(phase.name);
      if (phase.name === 'prepare') done.learned({ skipReason: 'already archived by session s as archive course 9' });
    }
    expect(seen).toEqual(['prepare']);
    expect(done.completed()).toMatchObject({ courseId: 1, status: 'skipped' });
  });

  it('archives again from prepare when the source changed, forgetting the archive it made; a third time in a row fails it', () => {
    const course = new CourseState(3);
    for (let round = 1; round <= MAX_ARCHIVES_WHILE_EDITED; round++) {
      course.learned({ backupName: 'b.mbz', sourceFingerprint: 'settings:a', sourceChanged: 'its files changed during its archive' });
      const tooMany = course.startOver();
      expect(course.facts).toEqual(
        round < MAX_ARCHIVES_WHILE_EDITED
          ? { phaseTimes: {}, note: 'archived again: its files changed during its archive' }
          : { phaseTimes: {} },
      );
      expect(names(course)).toEqual(PHASE_NAMES);
      if (round < MAX_ARCHIVES_WHILE_EDITED) expect(tooMany).toBeUndefined();
      else
        expect(tooMany).toMatch(
          /^it changed during each of its last 3 archives \(last: its files changed during its archive\); it stays on the source/,
        );
    }
    // A retry by the operator starts the count again.
    course.failed({ phase: course.progress.phase, errorType: 'SourceKeepsChanging', message: 'kept changing' }, Date.now());
    course.decide('retry');
    course.applyDecision();
    expect([course.progress.rearchives, names(course)[0]]).toEqual([0, 'prepare']);
  });

  it('skips what an earlier run did, as soon as prepare says so', () => {
    const course = new CourseState(2);
    const seen: string[] = [];
    for (const phase of course.phasesToRun()) {
      seen.push(phase.name);
      if (phase.name === 'prepare') course.learned({ resumeAt: 'postprocess' });
    }
    expect(seen).toEqual(['prepare', ...PHASE_NAMES.slice(PHASE_NAMES.indexOf('postprocess'))]);
  });

  it('takes a decision only while failed, and a retry resumes at the failed phase', () => {
    const course = new CourseState(3);
    course.decide('retry');
    expect(course.decided).toBe(false); // running: nothing to decide
    course.enterPhase('restore');
    course.phaseEnded('prepare', 1_000, 3_000);
    const told = course.failed(
      { phase: 'restore', errorType: 'Moodle:host-command-failed', message: 'restore_backup.php exited 1' },
      10_000,
    );
    expect(told).toMatchObject({ status: 'failed', failure: { phase: 'restore' }, phaseSeconds: { prepare: 2 } });
    expect(course.progress).toMatchObject({ status: 'failed', decisionDeadline: new Date(10_000).toISOString() });
    course.decide('retry');
    expect(course.applyDecision()).toBe('retry');
    expect(course.progress).toMatchObject({ status: 'running', retries: 1, failure: undefined, decisionDeadline: undefined });
    expect(names(course)).toEqual(PHASE_NAMES.slice(PHASE_NAMES.indexOf('restore')));
  });

  it('a skip closes it as skipped with the reason; no decision leaves it failed', () => {
    const course = new CourseState(4);
    course.failed({ phase: 'backup', errorType: 'Moodle:host-command-failed', message: 'no room' }, 0);
    course.decide('skip');
    expect(course.applyDecision()).toBe('skip');
    expect(course.outcome().status).toBe('skipped');
    expect(course.facts.skipReason).toBe('skipped by the operator after backup failed: no room');
    const waiting = new CourseState(5);
    waiting.failed({ phase: 'backup', errorType: 'x', message: 'y' }, 0);
    expect(waiting.applyDecision()).toBeUndefined();
    expect(waiting.outcome()).toMatchObject({ status: 'failed', failure: { phase: 'backup' } });
  });
});

describe('archiveCourse over stub activities', () => {
  let connection: NativeConnection;
  let client: Client;
  let workers: Worker[];
  let running: Promise<void>;
  const main = `course-stubs-${process.pid}`;
  const base: CourseInput = {
    session: `stubs-${Date.now()}`,
    vintage: '2024-2025',
    courseId: 7,
    sourceSiteId: `src${process.pid}`,
    targetSiteId: `tgt${process.pid}`,
    targetCategoryId: 3,
    sourceRootCategoryId: 2,
    mirrorSubcategories: true,
    deleteSource: true,
    failureHoldHours: 1,
  };
  /** Each step as it ran: its name, where (a queue, or 'local' for a local activity), and in which task. */
  const calls: { name: PhaseActivityName; where: string; task: string }[] = [];
  const ledger: string[] = [];
  let restoreFailures = 0;

  beforeAll(async () => {
    const step =
      (name: PhaseActivityName, out: CourseFacts = {}) =>
      async () => {
        const info = activityInfo();
        calls.push({ name, where: info.isLocal ? 'local' : info.taskQueue, task: `${info.workflowExecution?.runId}/${info.activityId}` });
        if (name === 'restoreCourse' && restoreFailures-- > 0)
          throw ApplicationFailure.nonRetryable('restore_backup.php exited 1', 'Moodle:host-command-failed');
        return out;
      };
    const stepNames = [...PHASES, ...EARLIER_PHASES]
      .flatMap((p): readonly { activity: PhaseActivityName }[] => p.steps)
      .map((s) => s.activity);
    const plain = {
      ...(Object.fromEntries(stepNames.map((n) => [n, step(n)])) as unknown as PhaseStepActivities),
      removeSourceStaging: step('removeSourceStaging'),
      removeTargetStaging: step('removeTargetStaging'),
      prepareCourse: step('prepareCourse', { shortname: 'C7', fullname: 'Course 7' }),
      verifyArchive: step('verifyArchive', { verified: true }),
    };
    const recordSteps = async ({ steps }: { steps: StepRecord[] }) => {
      ledger.push(...steps.map((s) => s.activity));
    };
    const stubs = {
      ...runningSteps(plain, (_course, entries) => recordSteps({ steps: entries })),
      recordSteps,
      async notify() {
        return { sent: [] };
      },
    };
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const bundle = { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
    workers = await Promise.all([
      Worker.create({ connection, namespace: testNamespace, taskQueue: main, workflowBundle: bundle, activities: stubs }),
      Worker.create({ connection, namespace: testNamespace, taskQueue: siteQueue(base.sourceSiteId), activities: stubs }),
      Worker.create({ connection, namespace: testNamespace, taskQueue: siteQueue(base.targetSiteId), activities: stubs }),
    ]);
    running = Promise.all(workers.map((w) => w.run())).then(() => undefined);
    client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }), namespace: testNamespace });
  });
  afterAll(async () => {
    for (const w of workers ?? []) w.shutdown();
    await running;
    await client?.connection.close();
    await connection?.close();
  });

  const where = (queue: string) =>
    queue === 'main' ? 'local' : queue === 'source' ? siteQueue(base.sourceSiteId) : siteQueue(base.targetSiteId);

  it("runs main-queue steps locally and a phase's steps on one host in one task; holds a failure, and a retry resumes at the failed phase", async () => {
    calls.length = 0;
    ledger.length = 0;
    restoreFailures = 1;
    const input: CourseInput = { ...base, courseId: 7, stepsTogether: true };
    const handle = await client.workflow.start('archiveCourse', {
      taskQueue: main,
      workflowId: `stub-course-${input.session}-7`,
      args: [input],
    });
    const failed = await until(
      () => handle.query(courseProgressQuery),
      (p) => p.status === 'failed',
    );
    expect(failed).toMatchObject({ phase: 'restore', failure: { phase: 'restore', errorType: 'Moodle:host-command-failed' } });
    expect(calls.map((c) => c.name)).toEqual(['prepareCourse', 'backupCourse', 'transportBackup', 'restoreCourse']);
    // What completed before the failure is in the ledger.
    expect(ledger).toEqual(['prepareCourse', 'backupCourse', 'transportBackup']);
    await handle.signal(courseDecisionSignal, 'retry');
    const result = (await handle.result()) as { status: string; facts: CourseFacts };
    expect(result.status).toBe('succeeded');
    // Prepare, backup and transport ran once; the retry started at restore; each step where the table says.
    const fromRestore = PHASES.slice(PHASE_NAMES.indexOf('restore')).flatMap((p): readonly Step[] => p.steps);
    expect(calls.slice(4).map((c) => [c.name, c.where])).toEqual(fromRestore.map((s) => [s.activity, where(s.queue)]));
    expect(calls.slice(0, 3).map((c) => c.where)).toEqual(['local', siteQueue(base.sourceSiteId), siteQueue(base.targetSiteId)]);
    // A phase's consecutive steps on one host ran in one task: restore's three, cleanup's two on the source.
    const tasks = (names: PhaseActivityName[]) =>
      new Set(
        calls
          .slice(4)
          .filter((c) => names.includes(c.name))
          .map((c) => c.task),
      ).size;
    expect(tasks(['restoreCourse', 'verifyArchive', 'removeTargetStaging'])).toBe(1);
    expect(tasks(['deleteSourceCourse', 'removeSourceStaging'])).toBe(1);
    // Every step that ran to its end has its ledger entry, in order.
    expect(ledger).toEqual(['prepareCourse', 'backupCourse', 'transportBackup', ...fromRestore.map((s) => s.activity)]);
    expect(Object.keys(result.facts.phaseTimes!)).toEqual(PHASE_NAMES);
    expect(await handle.query(courseProgressQuery)).toMatchObject({ phase: 'done', status: 'succeeded', retries: 1 });
  });

  it('a course started by an earlier release runs as it did: each step its own activity on its queue', async () => {
    calls.length = 0;
    ledger.length = 0;
    restoreFailures = 0;
    const input: CourseInput = { ...base, courseId: 8 };
    const handle = await client.workflow.start('archiveCourse', {
      taskQueue: main,
      workflowId: `stub-course-${input.session}-8`,
      args: [input],
    });
    expect(((await handle.result()) as { status: string }).status).toBe('succeeded');
    const steps = EARLIER_PHASES.flatMap((p): readonly Step[] => p.steps);
    expect(calls.map((c) => [c.name, c.where])).toEqual(steps.map((s) => [s.activity, s.queue === 'main' ? main : where(s.queue)]));
    expect(new Set(calls.map((c) => c.task)).size).toBe(steps.length);
    expect(ledger).toEqual(steps.map((s) => s.activity));
  });
});
