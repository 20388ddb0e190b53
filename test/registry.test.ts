// Temporal as the tracking registry: the progress queries, the search
// attributes seen through the real server's visibility API and the
// `temporal` CLI, retry and skip of failed courses, and no token in any
// event history of a whole session.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { courseStatus, retryCourses, sessionStatus, skipCourses, startSession } from '../client/sessions';
import { marksArchiveOf } from '../activities/restore';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { registerSearchAttributes } from '../client/register-search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { archiverCli, startStack, temporalCli, until, type Stack } from './harness';
import { courseWorkflowId } from '../contract';

/** Workflow IDs matching a visibility query, sorted. */
async function listIds(stack: Stack, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of stack.client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids.sort();
}

describe('failed courses: found by search attribute, retried, skipped', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 12 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('lists exactly the failed courses, retries one to success, skips the other, and never records a token', async () => {
    const sources = stack.vintageCourseIds();
    const [flaky, hopeless] = [sources[3], sources[8]];
    const prod = stack.sim.sites.prod.store;
    prod.data.faults.push({ script: 'backup', courseId: flaky, times: -1 }, { script: 'backup', courseId: hopeless, times: -1 });
    prod.save();
    const input = stack.sessionInput({ deleteSource: true, concurrency: 4 });
    const handle = await startSession(stack.client, stack.config, input);

    // Everything else is archived; the two failed courses wait for a decision.
    const waiting = await until(
      () => sessionStatus(stack.client, input.session),
      (s) => s.state === 'awaiting-decisions',
      120_000,
    );
    expect(waiting).toMatchObject({ total: 12, done: 12, running: 0, pending: 0, counts: { succeeded: 10, failed: 2, skipped: 0 } });
    expect(waiting.failed.map((f) => [f.courseId, f.phase, f.errorType])).toEqual(
      [
        [flaky, 'backup', 'Moodle:host-command-failed'],
        [hopeless, 'backup', 'Moodle:host-command-failed'],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    expect(Date.parse(waiting.decisionDeadline!)).toBeGreaterThan(Date.now() + 100 * 3_600_000);
    const flakyStatus = await courseStatus(stack.client, input.session, flaky);
    expect(flakyStatus).toMatchObject({ status: 'failed', phase: 'backup', failure: { errorType: 'Moodle:host-command-failed' } });

    // The documented query, through the visibility API and through the temporal CLI.
    const failedQuery = `ArchiveSession="${input.session}" AND ArchiveStatus="failed"`;
    const expected = [courseWorkflowId(input.session, flaky), courseWorkflowId(input.session, hopeless)].sort();
    await until(
      () => listIds(stack, failedQuery),
      (ids) => JSON.stringify(ids) === JSON.stringify(expected),
    );
    const cliRows = JSON.parse(await temporalCli(['workflow', 'list', '--query', failedQuery, '--output', 'json'])) as {
      execution: { workflowId: string };
    }[];
    expect(cliRows.map((r) => r.execution.workflowId).sort()).toEqual(expected);
    expect(await listIds(stack, `ArchiveSession="${input.session}" AND ArchiveStatus="succeeded"`)).toHaveLength(10);

    // Refused with a reason: a course that did not fail cannot be retried, nor a finished one skipped.
    await expect(retryCourses(stack.client, input.session, [sources[0]])).rejects.toThrow(
      /course \d+ is not a failed course of this session/,
    );
    await expect(skipCourses(stack.client, input.session, [sources[0]])).rejects.toThrow(/cannot be skipped: it is already finished/);

    // The admin fixes the cause of one failure and retries it: it resumes at backup and is archived.
    prod.data.faults = prod.data.faults.filter((f) => f.courseId !== flaky);
    prod.save();
    const retryAt = Date.now();
    expect(await archiverCli(stack, ['retry', input.session, String(flaky)])).toContain(`Queued for retry in ${input.session}: ${flaky}`);
    const retried = await until(
      () => courseStatus(stack.client, input.session, flaky),
      (c) => c.status === 'succeeded',
    );
    expect(retried).toMatchObject({ retries: 1, phase: 'done', facts: { verified: true, sourceDeleted: true } });
    const times = retried.facts.phaseTimes!;
    expect(times.prepare![1]).toBeLessThan(retryAt); // prepare was not run again
    expect(times.backup![0]).toBeGreaterThanOrEqual(retryAt);
    const afterRetry = await until(
      () => sessionStatus(stack.client, input.session),
      (s) => s.counts.succeeded === 11,
    );
    expect(afterRetry).toMatchObject({ state: 'awaiting-decisions', counts: { failed: 1 }, failed: [{ courseId: hopeless }] });

    // And gives up on the other: the session ends, the skipped course's source stays.
    expect(await archiverCli(stack, ['skip', input.session, String(hopeless)])).toContain(`Skipped in ${input.session}: ${hopeless}`);
    const result = await handle.result();
    expect(result).toMatchObject({
      state: 'finished',
      finished: true,
      counts: { succeeded: 11, failed: 0, skipped: 1, cancelled: 0 },
      failed: [],
    });
    expect(stack.vintageCourseIds()).toEqual([hopeless]);
    expect(stack.sim.sites.archive.store.data.courses.some((c) => marksArchiveOf(c.idnumber, 'prod', hopeless))).toBe(false);
    expect(await courseStatus(stack.client, input.session, hopeless)).toMatchObject({ status: 'skipped' });
    await until(
      () => listIds(stack, failedQuery),
      (ids) => ids.length === 0,
    );
    await expect(retryCourses(stack.client, input.session)).rejects.toThrow(
      new RegExp(`Session ${input.session} does not exist or no longer runs`),
    );
    expect(await listIds(stack, `ArchiveSession="${input.session}" AND ArchiveStatus="skipped"`)).toEqual([
      courseWorkflowId(input.session, hopeless),
    ]);
    // The report names the skipped course too (no catalog row, no failure left on record: its own result says).
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    await archiverCli(stack, ['report', input.session, '--out', out]);
    const hopelessShortname = prod.data.courses.find((c) => c.id === hopeless)!.shortname;
    expect(readFileSync(join(out, `${input.session}.csv`), 'utf8')).toMatch(
      new RegExp(`^${hopeless},${hopelessShortname},.*,skipped,`, 'm'),
    );

    // Every history of the session (its runs and all its courses) is free of tokens.
    const tokens = Object.values(stack.env);
    expect(tokens.length).toBeGreaterThan(0);
    let scanned = 0;
    for await (const wf of stack.client.workflow.list({ query: `ArchiveSession="${input.session}"` })) {
      const history = await stack.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
      expect(bytes.includes(input.session), wf.workflowId).toBe(true);
      for (const t of tokens) expect(bytes.includes(t), `token in ${wf.workflowId}`).toBe(false);
      scanned++;
    }
    expect(scanned).toBe(13);
  });
});

describe('search attributes on a real cluster', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('setup-search-attributes registers what a fresh namespace lacks, and is idempotent', async () => {
    const namespace = `archiver-fresh-${process.pid}`;
    await stack.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const names = SEARCH_ATTRIBUTES.map((k) => k.name).sort();
    const first = await until(
      () => registerSearchAttributes(stack.client, namespace).catch((e: Error) => e),
      (r) => !(r instanceof Error),
    );
    expect((first as { added: string[] }).added.sort()).toEqual(names);
    const second = await registerSearchAttributes(stack.client, namespace);
    expect(second).toEqual({ added: [], present: expect.arrayContaining(names) });
    const { customAttributes } = await stack.client.connection.operatorService.listSearchAttributes({ namespace });
    expect(customAttributes).toMatchObject({
      ArchiveSession: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ArchiveCourseId: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
    });
  });
});
