// Commands on a session: start, plan, follow, pause or drain, resume, concurrency, retry, skip, cancel.
import { writeControl } from '../inert';
import { Option, type Command } from 'commander';
import { sessionWorkflowId } from '../../contract';
import { progressBar, renderStatus } from '../render';
import { SessionInputError, validateSessionInput } from '../session-input';
import { PLAN_FORMATS, renderPlan, runPlan } from '../plan';
import type { SessionStatus } from '../sessions';
import { act, config, int, patiently, sleep } from './common';
import { sessionFields, sessionOptions } from './session-options';

export function registerSessionCommands(program: Command): void {
  sessionOptions(
    program
      .command('start')
      .description('start an archive session for a category')
      .requiredOption('--session <name>', 'session name (workflow ID archive-session/<name>)')
      .requiredOption('--vintage <label>', 'academic vintage, e.g. 2024-2025'),
    { category: true },
  )
    .option('--wait', 'show progress until the session ends')
    .action(async (o) => {
      const cfg = config();
      const input = validateSessionInput({ session: o.session, vintage: o.vintage, ...sessionFields(o) }, cfg);
      const [{ connectClient }, { startSession }] = await Promise.all([import('../connection'), import('../sessions')]);
      const client = await connectClient(cfg);
      await startSession(client, cfg, input);
      await client.connection.close();
      console.log(`Started ${sessionWorkflowId(input.session)}`);
      if (o.wait) await watch(input.session, { everyMs: 1000, untilSettled: true, courses: 10 });
    });

  sessionOptions(
    program
      .command('plan')
      .description(
        'dry run: the courses a session would archive, skip or leave out, their sizes, and how long it would take in its windows',
      ),
    { category: true },
  )
    .option('--start <iso>', 'when the session would start (default: now), e.g. 2026-12-04T19:00:00+01:00')
    .addOption(new Option('--format <format>', 'output').choices(PLAN_FORMATS).default('table'))
    .action(
      act(async (client, o) => {
        const cfg = config();
        // A plan names no session: placeholders pass the shared validation, and the workflow ignores them.
        const input = validateSessionInput({ session: 'plan', vintage: 'plan', ...sessionFields(o) }, cfg);
        if (o.start !== undefined && Number.isNaN(Date.parse(o.start)))
          throw new SessionInputError([`--start: "${o.start}" is not a date-time; write e.g. 2026-12-04T19:00:00+01:00`]);
        const report = await runPlan(client, cfg, { ...input, startAt: o.start });
        console.log(renderPlan(report, o.format, input.windows?.timezone));
      }),
    );

  program
    .command('status <session>')
    .description("a session's progress: counts per status and phase, rate and ETA, running and failed courses")
    .option('--watch', 'refresh until nothing is left to run')
    .option('--courses <n>', 'running courses shown in detail', int('--courses'), 10)
    .action(async (session: string, o: { watch?: boolean; courses: number }) => {
      await watch(session, { everyMs: 2000, untilSettled: Boolean(o.watch), courses: o.courses });
    });

  program
    .command('pause <session>')
    .description('start no new course until resumed')
    .option('--drain', 'also hold running courses at their next phase boundary (the running phase finishes)')
    .action(
      act(async (client, session: string, o: { drain?: boolean }) => {
        const { pauseSession } = await import('../sessions');
        await patiently(client, `pausing ${session}`, () => pauseSession(client, session, { drain: o.drain }));
        console.log(
          o.drain
            ? `Paused ${session} with drain: running courses finish their phase and hold; none starts`
            : `Paused ${session}: running courses finish, no new one starts`,
        );
      }),
    );

  program
    .command('concurrency <session> <n>')
    .description('courses at once from now on, without a restart')
    .action(
      act(async (client, session: string, n: string) => {
        const { setConcurrency } = await import('../sessions');
        const previous = await patiently(client, `setting the concurrency of ${session}`, () =>
          setConcurrency(client, session, int('n')(n)),
        );
        console.log(`Concurrency of ${session}: ${previous} -> ${n}`);
      }),
    );

  program
    .command('resume <session>')
    .description('resume a paused session')
    .action(
      act(async (client, session: string) => {
        const { resumeSession } = await import('../sessions');
        await patiently(client, `resuming ${session}`, () => resumeSession(client, session));
        console.log(`Resumed ${session}`);
      }),
    );

  program
    .command('retry <session> [courseIds...]')
    .description('send failed courses back (all failed ones without ids); each resumes at the phase that failed')
    .action(
      act(async (client, session: string, ids: string[]) => {
        const { retryCourses } = await import('../sessions');
        const queued = await patiently(client, `retrying in ${session}`, () =>
          retryCourses(client, session, ids.length ? ids.map(int('courseId')) : undefined),
        );
        console.log(`Queued for retry in ${session}: ${queued.join(', ')}`);
      }),
    );

  program
    .command('skip <session> <courseIds...>')
    .description('give up on courses: failed ones close as skipped, pending ones are never started')
    .action(
      act(async (client, session: string, ids: string[]) => {
        const { skipCourses } = await import('../sessions');
        const skipped = await patiently(client, `skipping in ${session}`, () => skipCourses(client, session, ids.map(int('courseId'))));
        console.log(`Skipped in ${session}: ${skipped.join(', ')}`);
      }),
    );

  program
    .command('cancel <session>')
    .description('stop a session: backups and transfers stop at once, restores and deletions finish first; staging files are removed')
    .action(
      act(async (client, session: string) => {
        const { cancelSession } = await import('../sessions');
        await patiently(client, `cancelling ${session}`, () => cancelSession(client, session));
        console.log(`Cancellation requested for ${session}; follow it with: status ${session} --watch`);
      }),
    );
}

/** Shows a session's status; with `untilSettled`, refreshes it until nothing is left to run. */
export async function watch(session: string, opts: { everyMs: number; untilSettled: boolean; courses: number }) {
  const [{ connectClient }, { sessionStatus, sessionStopReason }, { whileBusy }] = await Promise.all([
    import('../connection'),
    import('../sessions'),
    import('../busy'),
  ]);
  const cfg = config();
  const client = await connectClient(cfg);
  const live = opts.untilSettled && process.stdout.isTTY;
  const bar = progressBar();
  try {
    for (;;) {
      // A busy server or worker is said in one line and tried again: while watching, as long as it takes.
      const s: SessionStatus = await whileBusy(
        {
          client,
          what: `reading session ${session}`,
          queue: cfg.mainQueue,
          withinMs: opts.untilSettled ? undefined : 120_000,
          say: (l) => bar.log(`${l}\n`),
        },
        () => sessionStatus(client, session, { courses: opts.courses, phases: true }),
      );
      // A session stopped by an error (its target category missing, a site unsupported) says why, and fails the command.
      const stopped = await sessionStopReason(client, session);
      if (stopped) {
        bar.stop();
        console.log(`${renderStatus(session, s)}\n\nSession ${session} stopped on an error: ${stopped}`);
        process.exitCode = 1;
        return s;
      }
      // On a terminal the table is redrawn in place, the bar below it; in a log, only the bar ticks.
      if (live) {
        writeControl('\x1b[H\x1b[2J');
        process.stdout.write(`${renderStatus(session, s)}\n\n`);
      }
      bar.update(s);
      if (s.finished || s.state === 'awaiting-decisions' || !opts.untilSettled) {
        bar.stop();
        if (!live) console.log(renderStatus(session, s));
        return s;
      }
      await sleep(opts.everyMs);
    }
  } finally {
    await client.connection.close();
  }
}
