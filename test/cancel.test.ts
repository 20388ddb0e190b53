// Cancelling a running session the way an operator does from the Web UI or
// with `temporal workflow cancel`: its courses stop cleanly, no staging file
// stays behind, and no source course is gone without a verified archive.
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelSession, sessionStatus, startSession } from '../client/sessions';
import { marksArchiveOf } from '../activities/restore';
import { ArchiveStatus } from '../workflows/search-attributes';
import { startStack, temporalCli, until, type Stack } from './harness';
import { courseWorkflowId, sessionWorkflowId } from '../contract';

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));

describe('cancelling a running session', () => {
  let stack: Stack;
  // Backups and restores take seconds here, so the cancel finds courses mid-phase.
  beforeAll(async () => {
    stack = await startStack({ courses: 16, latency: { fixedSeconds: 1.5, secondsPerMB: 0.01, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('stops every course cleanly: nothing half-deleted, no staging file left', async () => {
    const sources = stack.vintageCourseIds();
    const input = stack.sessionInput({ deleteSource: true, concurrency: 4 });
    const handle = await startSession(stack.client, stack.config, input);
    await until(
      () => sessionStatus(stack.client, input.session, { phases: true }),
      (s) => s.counts.succeeded >= 1 && s.phases!.backup >= 1,
      120_000,
    );

    await temporalCli(['workflow', 'cancel', '--workflow-id', sessionWorkflowId(input.session)]);

    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const final = await sessionStatus(stack.client, input.session);
    expect(final.running).toBe(0);
    expect(final.counts.cancelled).toBeGreaterThanOrEqual(1);
    expect(final.counts.succeeded + final.counts.cancelled).toBe(final.done);
    expect(final.done).toBeLessThan(sources.length);

    // No course of the session is left running, and each one says how it ended.
    const courseStatuses = async () => {
      const statuses: Record<string, number> = {};
      for await (const wf of stack.client.workflow.list({ query: `WorkflowType="archiveCourse" AND ArchiveSession="${input.session}"` })) {
        const key = `${wf.status.name}/${wf.typedSearchAttributes.get(ArchiveStatus)}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
      return statuses;
    };
    const expected = { 'COMPLETED/succeeded': final.counts.succeeded, 'CANCELLED/cancelled': final.counts.cancelled };
    await until(courseStatuses, (s) => isDeepStrictEqual(s, expected));
    const sessionDescription = await handle.describe();
    expect(sessionDescription.status.name).toBe('CANCELLED');

    // Nothing half-done: a course is either still whole on prod, or archived, verified and then deleted.
    const onProd = new Set(stack.vintageCourseIds());
    const archive = stack.sim.sites.archive.store.data.courses;
    for (const id of sources) {
      const row = await stack.catalog.find('prod', id);
      if (onProd.has(id)) {
        expect(row?.sourceDeleted ?? false, `course ${id}`).toBe(false);
      } else {
        expect(row, `course ${id} was deleted from prod`).toMatchObject({ verified: true, sourceDeleted: true });
        expect(archive.some((c) => marksArchiveOf(c.idnumber, 'prod', id))).toBe(true);
      }
    }
    expect(onProd.size).toBeGreaterThan(0);
    expect(filesUnder(join(stack.dir, 'staging'))).toEqual([]);
  });
});

describe('cancelling a session whose backups run long', () => {
  let stack: Stack;
  // Every admin script takes a minute: only a heartbeat's reply can stop them sooner.
  beforeAll(async () => {
    stack = await startStack({ courses: 4, latency: { fixedSeconds: 60, secondsPerMB: 0, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('interrupts the running backups through their heartbeats', async () => {
    const sources = stack.vintageCourseIds();
    const input = stack.sessionInput({ deleteSource: true, concurrency: 4 });
    const handle = await startSession(stack.client, stack.config, input);
    const backingUp = await until(
      () => sessionStatus(stack.client, input.session, { courses: 4, phases: true }),
      // Both views: the servers' (each backup activity started) and the session's (its query answers from the
      // signals it has processed, which may trail the courses by a task on a loaded machine).
      (s) =>
        s.courses.length === 4 &&
        s.courses.every((c) => c.activity?.name === 'backupCourse' && c.activity.started) &&
        s.phases!.backup === 4,
      60_000,
    );
    expect(backingUp.phases!.backup).toBe(4);

    await cancelSession(stack.client, input.session);
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    for (const id of sources) {
      // A course reports from its `finally`, then closes: it may close just after the session.
      const course = stack.client.workflow.getHandle(courseWorkflowId(input.session, id));
      await until(
        () => course.describe(),
        (d) => d.status.name !== 'RUNNING',
        30_000,
      );
      const events = (await course.fetchHistory()).events!;
      const types = events.map((e) => e.eventType);
      // The backup reported itself cancelled (it did not run to its end), then the course closed as cancelled.
      expect(types, `course ${id}`).toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED);
      expect(types.at(-1)).toBe(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
    }
    expect(stack.vintageCourseIds()).toEqual(sources);
    expect(stack.sim.sites.archive.store.data.courses).toEqual([]);
    expect(filesUnder(join(stack.dir, 'staging'))).toEqual([]);
  });
});
