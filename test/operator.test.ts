// The operator's toolbox on real parts: notifications to a local webhook
// receiver and a local SMTP catcher, `sessions list`, `course show`,
// `report`, and the `temporal` CLI's batch recipes of the README.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testNamespace } from './namespace';
import { archiverCli, startStack, temporalCli, until, type Stack } from './harness';
import { sessionWorkflowId } from '../contract';
import { notificationsTo, startReceivers, type Receivers } from './receivers';

describe('notifications, sessions list, course show and report', () => {
  let stack: Stack;
  let receivers: Receivers;
  beforeAll(async () => {
    receivers = await startReceivers();
    stack = await startStack({
      courses: 6,
      notifications: notificationsTo(receivers),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receivers?.close();
  });

  it('tells the admins of a failed course and of the end, and inspects and reports the session', async () => {
    const sources = stack.vintageCourseIds();
    const broken = sources[2];
    stack.sim.sites.prod.store.data.faults.push({ script: 'backup', courseId: broken, times: -1 });
    // No hold: the failed course closes at once and the session ends.
    const input = stack.sessionInput({ deleteSource: false, failureHoldHours: 0 });
    const result = await stack.runSession(input);
    expect(result.counts).toEqual({ succeeded: 5, failed: 1, skipped: 0, cancelled: 0 });

    // Webhook: the course's failure, then the session's end, as JSON.
    const failed = receivers.webhook.find((n) => n.kind === 'course-failed');
    expect(failed).toMatchObject({ session: input.session, courseId: broken, phase: 'backup', errorType: 'Moodle:host-command-failed' });
    const ended = await until(
      async () => receivers.webhook.find((n) => n.kind === 'session-ended'),
      (n) => n !== undefined,
      10_000,
    );
    expect(ended).toMatchObject({
      session: input.session,
      state: 'completed-with-failures',
      total: 6,
      counts: { succeeded: 5, failed: 1 },
      failed: [{ courseId: broken, phase: 'backup' }],
      link: `http://localhost:8233/namespaces/${testNamespace}/workflows/${encodeURIComponent(sessionWorkflowId(input.session))}`,
    });
    expect(ended!.subject).toBe(`[archiver] ${input.session} completed-with-failures: 5 archived, 1 failed, 0 skipped of 6`);
    // The catalog ledger's head goes with it, out of the database's reach.
    expect(ended!.ledgerHead).toEqual({ seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(ended!.text).toContain(`catalog verify --head ${ended!.ledgerHead!.seq}:${ended!.ledgerHead!.hash}`);
    // Email: the same two, to the configured recipients.
    expect(receivers.mail).toHaveLength(2);
    expect(receivers.mail.join('\n')).toContain(`Subject: [archiver] ${input.session}: course ${broken} failed in backup`);
    expect(receivers.mail.every((m) => /^To: moodle-admins@example\.edu/m.test(m))).toBe(true);

    // sessions list: the session with its state, percent and failures.
    const rows = JSON.parse(await archiverCli(stack, ['sessions', 'list', '--json', '--query', `ArchiveSession="${input.session}"`]));
    expect(rows).toEqual([
      expect.objectContaining({ session: input.session, state: 'completed-with-failures', percent: 100, failed: 1, done: 6, total: 6 }),
    ]);
    expect(await archiverCli(stack, ['sessions', 'list'])).toMatch(
      new RegExp(`${input.session}\\s+2024-2025\\s+completed-with-failures\\s+6/6`),
    );

    // course show: the failed course's phases, attempts and last error; a good course's catalog row.
    const bad = JSON.parse(await archiverCli(stack, ['course', 'show', input.session, String(broken), '--json']));
    expect(bad.phases.map((p: { phase: string; outcome: string; attempts: number }) => [p.phase, p.outcome, p.attempts])).toEqual([
      ['prepare', 'completed', 1],
      ['backup', 'failed', 3],
      // Closed without a decision: its staging files removed (two steps, both hosts, each once), nothing deleted.
      ['discard', 'completed', 1],
    ]);
    expect(bad.phases[1].lastError).toMatch(/backup/i);
    expect(bad.catalog).toBeNull();
    const good = JSON.parse(await archiverCli(stack, ['course', 'show', input.session, String(sources[0]), '--json']));
    expect(good.phases.map((p: { phase: string }) => p.phase)).toEqual([
      'prepare',
      'backup',
      'transport',
      'restore',
      'postprocess',
      'cleanup',
    ]);
    // Attempts, not steps: every phase of a course that never failed was tried once, however many steps it has.
    expect(
      good.phases.every(
        (p: { outcome: string; seconds: number; attempts: number }) => p.outcome === 'completed' && p.seconds >= 0 && p.attempts === 1,
      ),
    ).toBe(true);
    expect(good.catalog).toMatchObject({ sourceCourseId: sources[0], verified: true, sessionId: input.session });
    expect(await archiverCli(stack, ['course', 'show', input.session, String(sources[0])])).toMatch(/catalog: archive course \d+/);

    // report: a CSV row per course and an HTML page with the failure and a link per course.
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    await archiverCli(stack, ['report', input.session, '--out', out]);
    const csv = parse(readFileSync(join(out, `${input.session}.csv`), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => Number(r.courseId))).toEqual(sources);
    // A failed course has no catalog row: it is named by the shortname prepare read.
    const brokenShortname = stack.sim.sites.prod.store.data.courses.find((c) => c.id === broken)!.shortname;
    expect(csv.find((r) => Number(r.courseId) === broken)).toMatchObject({
      status: 'failed',
      failedPhase: 'backup',
      shortname: brokenShortname,
    });
    expect(csv.filter((r) => r.status === 'succeeded').every((r) => Number(r.mbzBytes) > 0 && r.targetCourseId)).toBe(true);
    const html = readFileSync(join(out, `${input.session}.html`), 'utf8');
    expect(html).toContain('Failures (1)');
    for (const id of sources)
      expect(html).toContain(`/namespaces/${testNamespace}/workflows/${encodeURIComponent(`archive-course/${input.session}/${id}`)}`);
    expect(html).not.toMatch(/<script|<link |src="http/); // self-contained
    // What it archived, from where to where; the ledger head; the pictures (finished over time, phases by size, hosts).
    expect(html).toContain(`From <b>prod</b> category ${stack.vintageCategoryId} to <b>archive</b> category ${stack.archivesCategoryId}`);
    expect(html).toMatch(/Catalog ledger head: entry \d+, <code>[0-9a-f]{64}<\/code>/);
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).toContain('Time per host');
  });
});

describe('a notification that cannot be delivered', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Nothing listens on port 9 of this machine.
    stack = await startStack({
      courses: 2,
      notifications: { webhook: { url: 'http://127.0.0.1:9/hook' }, email: { host: '127.0.0.1', port: 9, from: 'a@b.c', to: ['d@e.f'] } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('never fails the session', async () => {
    const input = stack.sessionInput();
    const result = await stack.runSession(input);
    expect(result.counts).toEqual({ succeeded: 2, failed: 0, skipped: 0, cancelled: 0 });
    const history = await stack.client.workflow.getHandle(sessionWorkflowId(input.session)).fetchHistory();
    const scheduled = new Map(
      history
        .events!.filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name]),
    );
    const failedNotify = history.events!.filter(
      (e) =>
        e.activityTaskFailedEventAttributes && scheduled.get(String(e.activityTaskFailedEventAttributes.scheduledEventId)) === 'notify',
    );
    expect(failedNotify).toHaveLength(1);
    expect(failedNotify[0].activityTaskFailedEventAttributes!.failure!.message).toMatch(
      /webhook 127\.0\.0\.1:9: .*; email via 127\.0\.0\.1:9/,
    );
  });
});

describe("the README's batch recipes with the temporal CLI", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 2 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** One batch job per namespace at a time: a recipe run while another batch ends is tried again. */
  const batch = (args: string[]) =>
    until(
      () =>
        temporalCli([...args, '--yes']).then(
          () => true,
          (e: Error) => {
            if (/batch/i.test(e.message)) return false;
            throw e;
          },
        ),
      (ok) => ok,
      30_000,
    );
  const status = (session: string) =>
    stack.client.workflow
      .getHandle(sessionWorkflowId(session))
      .describe()
      .then((d) => d.status.name);

  it('pauses, cancels and terminates every session of a vintage by search attribute', async () => {
    const vintage = `batch-${Date.now()}`;
    // Windows closed for days: the sessions wait, and nothing is archived meanwhile.
    const waiting = {
      windows: { timezone: 'Europe/Paris', windows: [{ days: 'mon', from: '00:00', to: '00:01' }] },
      clock: { speed: 1, startAt: '2026-12-01T12:00:00+01:00' },
    };
    // Three sessions of one category: the later two wait for the first (one session per course).
    const inputs = [1, 2, 3].map((i) => stack.sessionInput({ session: `${vintage}-${i}`, vintage, ...waiting, whenOverlapping: 'wait' }));
    for (const input of inputs)
      await stack.client.workflow.start('archiveSession', {
        workflowId: sessionWorkflowId(input.session),
        taskQueue: stack.config.mainQueue,
        args: [input],
      });
    const sessionsOf = `WorkflowType="archiveSession" AND ArchiveVintage="${vintage}" AND ExecutionStatus="Running"`;
    await until(
      () => temporalCli(['workflow', 'count', '--query', sessionsOf]),
      (out) => /Total: 3/.test(out),
    );

    await batch(['workflow', 'signal', '--query', sessionsOf, '--name', 'pause', '--input', '{"drain":false}', '--reason', 'exams']);
    for (const input of inputs) {
      await until(
        () => stack.client.workflow.getHandle(sessionWorkflowId(input.session)).query<{ paused: boolean }>('progress'),
        (p) => p.paused,
      );
    }

    await batch(['workflow', 'cancel', '--query', `${sessionsOf} AND ArchiveSession="${inputs[0].session}"`, '--reason', 'wrong vintage']);
    await until(
      () => status(inputs[0].session),
      (s) => s === 'CANCELLED',
    );
    await batch(['workflow', 'terminate', '--query', sessionsOf, '--reason', 'stop everything']);
    for (const input of inputs.slice(1))
      await until(
        () => status(input.session),
        (s) => s === 'TERMINATED',
      );
    expect(stack.vintageCourseIds()).toHaveLength(2);
  });
});
