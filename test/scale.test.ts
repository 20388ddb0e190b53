// Bounded history: a session that continues as new whenever a run's history
// reaches a length (36 courses rolling over at 150 events in `npm test`, 300
// at 400 in the full lane), while its courses keep reporting to it. Every
// course is archived exactly once, the counts survive each roll-over,
// `progress` stays coherent while it rolls over, and no run's history grows
// past its bound with the size of the vintage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionStatus, startSession, type SessionStatus } from '../client/sessions';
import { archiveMarkSource } from '../activities/restore';
import { startStack, until, type Stack } from './harness';
import { sessionWorkflowId } from '../contract';
import { listSessions } from '../client/inspect';

const FULL = process.env.TEST_LANE === 'full';
const COURSES = FULL ? 300 : 36;
const CAN_AT_EVENTS = FULL ? 400 : 150;
const CONCURRENCY = 10;

describe(`a ${COURSES}-course session continuing as new at ${CAN_AT_EVENTS} events`, () => {
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
    const input = stack.sessionInput({
      deleteSource: true,
      concurrency: CONCURRENCY,
      pageSize: FULL ? 40 : 6,
      continueAsNewAtEvents: CAN_AT_EVENTS,
      continueAsNewAfter: 1000,
    });
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
      expect(s.running).toBeLessThanOrEqual(CONCURRENCY);
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

    // Bounded history: every run rolled over near its mark, reports arriving all along. A run goes past the mark
    // only by what one workflow task brings (the reports that arrived meanwhile, a batch of starts and their answers).
    const runs: { events: number; refused: number }[] = [];
    const starts: number[] = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowId="${sessionWorkflowId(input.session)}"` })) {
      starts.push(wf.startTime.getTime());
      const events = (await stack.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events!;
      // A roll-over the server refused because a report came in during its workflow task (it retries at once).
      const refused = events.filter((e) => e.workflowTaskFailedEventAttributes).length;
      runs.push({ events: events.length, refused });
    }
    const lengths = runs.map((r) => r.events);
    console.log(
      `session runs: ${runs.length}; events per run: max ${Math.max(...lengths)}, mean ${Math.round(lengths.reduce((a, b) => a + b, 0) / runs.length)}; roll-overs refused once: ${runs.filter((r) => r.refused).length}`,
    );
    expect(runs.length).toBeGreaterThanOrEqual(3);
    // sessions list says when the session began: its first run, not its latest.
    const [listed] = await listSessions(stack.client, { query: `ArchiveSession="${input.session}"` });
    const [first, second] = starts.sort((a, b) => a - b);
    expect(Date.parse(listed.startedAt)).toBeGreaterThanOrEqual(first);
    expect(Date.parse(listed.startedAt)).toBeLessThan(Math.min(second, first + 5_000));
    for (const r of runs) expect(r.events).toBeLessThan(CAN_AT_EVENTS + 12 * CONCURRENCY);
  });
});
