// Bounded history: a session that continues as new every few course starts
// (36 courses rolling over every 3 in `npm test`, 300 every 25 in the full
// lane: the same bound, twelve runs either way). Every course is archived
// exactly once, the counts survive each roll-over, `progress` stays coherent
// while it rolls over, and no run's history grows with the size of the vintage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionStatus, startSession, type SessionStatus } from '../client/sessions';
import { archiveMarkSource } from '../activities/restore';
import { startStack, until, type Stack } from './harness';
import { DEFAULT_CONTINUE_AS_NEW_AFTER, sessionWorkflowId } from '../contract';

const FULL = process.env.TEST_LANE === 'full';
const COURSES = FULL ? 300 : 36;
const CAN_AFTER = FULL ? 25 : 3;

describe(`a ${COURSES}-course session continuing as new every ${CAN_AFTER} starts`, () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: COURSES });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('archives every course exactly once with counts and progress right across runs', { timeout: 900_000 }, async () => {
    const sources = stack.vintageCourseIds();
    expect(sources).toHaveLength(COURSES);
    const input = stack.sessionInput({ deleteSource: true, concurrency: 10, pageSize: FULL ? 40 : 6, continueAsNewAfter: CAN_AFTER });
    const handle = await startSession(stack.client, stack.config, input);

    // Read progress all along, through every roll-over.
    const samples: SessionStatus[] = [];
    const queryErrors: string[] = [];
    let running = true;
    const reader = (async () => {
      while (running) {
        try {
          samples.push(await sessionStatus(stack.client, input.session, { phases: true }));
        } catch (e) {
          queryErrors.push((e as Error).message);
        }
        await new Promise((r) => setTimeout(r, 250)); // a reading interval, as `status --watch` has
      }
    })();
    const result = await handle.result();
    running = false;
    await reader;

    expect(result).toMatchObject({
      finished: true,
      total: COURSES,
      done: COURSES,
      percent: 100,
      counts: { succeeded: COURSES, failed: 0, skipped: 0, cancelled: 0 },
    });
    expect(queryErrors).toEqual([]);
    expect(samples.length).toBeGreaterThan(COURSES / 15);
    let lastDone = 0;
    for (const s of samples) {
      expect(s.done).toBeGreaterThanOrEqual(lastDone); // never goes back at a roll-over
      lastDone = s.done;
      expect(s.running).toBeLessThanOrEqual(10);
      if (s.total) expect(s.done + s.running + s.pending).toBe(s.total);
      if (s.total) expect(s.total).toBe(COURSES);
      expect(Object.values(s.phases!).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(s.running);
    }

    // Exactly once: one archive copy, one catalog row and one course workflow execution per source course.
    const archive = stack.sim.sites.archive.store.data.courses;
    expect(archive).toHaveLength(COURSES);
    expect(new Set(archive.map((c) => archiveMarkSource(c.idnumber)?.courseId))).toEqual(new Set(sources));
    const rows = await stack.catalog.listSession(input.session);
    expect(rows.map((r) => r.sourceCourseId)).toEqual(sources);
    expect(rows.every((r) => r.verified && r.sourceDeleted)).toBe(true);
    expect(stack.vintageCourseIds()).toEqual([]);
    // A course reports from its `finally`, then closes: the last ones may close just after the session.
    const courseStatuses = async () => {
      const statuses: string[] = [];
      for await (const wf of stack.client.workflow.list({ query: `WorkflowType="archiveCourse" AND ArchiveSession="${input.session}"` }))
        statuses.push(wf.status.name);
      return statuses;
    };
    const statuses = await until(courseStatuses, (all) => all.length === COURSES && !all.includes('RUNNING'), 30_000);
    expect(new Set(statuses)).toEqual(new Set(['COMPLETED']));

    // Bounded history: runs of the session, each far below 10,000 events, none growing with the vintage.
    const lengths: number[] = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowId="${sessionWorkflowId(input.session)}"` })) {
      lengths.push((await stack.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events!.length);
    }
    expect(lengths.length).toBeGreaterThanOrEqual(COURSES / CAN_AFTER);
    // A course reports to whichever run is current, so one run's length depends on timing (reports of
    // courses started by earlier runs land in it); the sum over all runs does not. Per course start,
    // it also carries each run's fixed cost, so projecting it to a whole run errs on the safe side.
    const total = lengths.reduce((a, b) => a + b, 0);
    const perStart = total / COURSES;
    console.log(
      `session runs: ${lengths.length}; events per run: max ${Math.max(...lengths)}, mean ${Math.round(total / lengths.length)}; about ${perStart.toFixed(1)} events per course start`,
    );
    // At the default number of starts per run, a run stays below the server's suggested-continue-as-new mark.
    expect(perStart * DEFAULT_CONTINUE_AS_NEW_AFTER).toBeLessThan(10_000);
  });
});
