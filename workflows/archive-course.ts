// archiveCourse: one course through the phase table, one activity per step
// on the queue the step names. It tells its session each phase it enters
// and, from a `finally`, how it ended, so a failed course never leaves the
// session waiting. A failed course stays open, searchable as
// ArchiveStatus="failed", until the operator retries it (it resumes at the
// failed phase) or skips it, or until the hold runs out. Cancelled, it stops
// at once in phases that can be interrupted, after the phase otherwise, and
// removes its staging files. Between two phases it holds while the session's
// window is closed (a durable timer to the opening) or while drained.
// The course's state and rules are CourseState's; this file wires them to Temporal.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { HOUR, siteQueue } from '../contract';
import { CourseState } from './course-state';
import { courseDecisionSignal, courseFinishedSignal, courseHoldSignal, courseProgressQuery, coursePhaseSignal } from './messages';
import { notifySafely } from './notify';
import { DISCARD_OPTIONS, DISCARD_STEPS, type Phase, type PhaseActivityName, type QueueRole } from './phases';
import { ArchiveCourseId, ArchivePhase, ArchiveSession, ArchiveStatus, ArchiveVintage } from './search-attributes';
import type { CourseFacts, CourseFailure, CourseInput, CourseOutcome } from './types';
import { WindowCalendar } from './windows';

function describeFailure(err: unknown, phase: string): CourseFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { phase, errorType: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { phase, errorType: cause.name, message: cause.message };
  return { phase, errorType: 'Error', message: String(cause) };
}

const { recordStep } = proxyLocalActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumInterval: '30s' } });

export async function archiveCourse(input: CourseInput): Promise<CourseOutcome & { facts: CourseFacts }> {
  const queueOf: Record<QueueRole, string> = {
    main: workflowInfo().taskQueue,
    source: siteQueue(input.sourceSiteId),
    target: siteQueue(input.targetSiteId),
  };
  const course = new CourseState(input.courseId);
  const { facts, progress } = course;
  setHandler(courseProgressQuery, () => progress);
  setHandler(courseDecisionSignal, (d) => course.decide(d));
  setHandler(courseHoldSignal, (hold) => {
    course.held = hold;
  });
  const calendar = input.windows && new WindowCalendar(input.windows.spec, input.windows.clock, input.windows.realStart);
  const root = CancellationScope.current();
  const parentId = workflowInfo().parent?.workflowId;

  // By workflow ID only: the signal reaches the session's current run, even after continue-as-new.
  const tellSession = <A extends unknown[]>(signal: SignalDefinition<A>, ...args: A) =>
    CancellationScope.nonCancellable(async () => {
      if (!parentId) return;
      try {
        await getExternalWorkflowHandle(parentId).signal(signal, ...args);
      } catch {
        // The session is gone (terminated or finished): nothing to tell.
      }
    });
  let steps = 0;
  const runStep = async (step: { activity: PhaseActivityName; queue: QueueRole }, options: Phase['options']) => {
    course.enterStep(step.activity);
    const activity = proxyActivities<Activities>({
      ...options,
      taskQueue: queueOf[step.queue],
      // Said explicitly: left unset, the SDK does TRY_CANCEL, and the staging files would be
      // discarded while a cancelled backup is still writing its file.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    })[step.activity];
    const out = await activity({ course: input, facts });
    course.learned(out);
    // Into the ledger, even if a cancellation arrives now: the step did happen.
    const entryKey = `${workflowInfo().runId}/${++steps}`;
    await CancellationScope.nonCancellable(() => recordStep({ course: input, activity: step.activity, facts: out, entryKey }));
  };
  const windowNow = () => calendar?.at(Date.now());
  const mayGo = () => (windowNow()?.open ?? true) && !course.held;
  /** Before a phase: hold while the window is closed or the session drains; the running phase always finishes. */
  const waitForGo = async () => {
    for (let told = false; !mayGo(); told = true) {
      const w = windowNow();
      const closed = w && !w.open ? w : undefined;
      course.waitFor(closed ? `the window (opens ${calendar!.local(closed.opensAt)})` : 'resume (the session was paused with drain)');
      if (!told) await tellSession(coursePhaseSignal, { courseId: input.courseId, phase: 'waiting' });
      if (closed) await sleep(Math.max(1, closed.opensAt - Date.now()));
      else await condition(() => !course.held);
    }
    course.waitFor(undefined);
  };
  const setStatus = (status: typeof progress.status) => {
    course.setStatus(status);
    upsertSearchAttributes([{ key: ArchiveStatus, value: status }]);
  };

  upsertSearchAttributes([
    { key: ArchiveSession, value: input.session },
    { key: ArchiveVintage, value: input.vintage },
    { key: ArchiveCourseId, value: input.courseId },
    { key: ArchiveStatus, value: 'running' },
  ]);

  try {
    for (;;) {
      try {
        for (const phase of course.phasesToRun()) {
          course.enterPhase(phase.name);
          // Telling the session takes a round trip: the window may have closed meanwhile.
          do {
            await waitForGo();
            course.phaseStarted(Date.now());
            upsertSearchAttributes([{ key: ArchivePhase, value: phase.name }]);
            await tellSession(coursePhaseSignal, { courseId: input.courseId, phase: phase.name });
          } while (!mayGo());
          const started = Date.now();
          const runSteps = async () => {
            for (const step of phase.steps) await runStep(step, phase.options);
          };
          await (phase.onCancel === 'finish' ? CancellationScope.nonCancellable(runSteps) : runSteps());
          course.phaseEnded(phase.name, started, Date.now());
          if (root.consideredCancelled) throw new CancelledFailure(`cancelled after ${phase.name}`);
        }
        const outcome = course.completed();
        upsertSearchAttributes([{ key: ArchiveStatus, value: outcome.status }]);
        return { ...outcome, facts };
      } catch (err) {
        if (isCancellation(err)) {
          setStatus('cancelled');
          await CancellationScope.nonCancellable(async () => {
            for (const step of DISCARD_STEPS) await runStep(step, DISCARD_OPTIONS);
          });
          throw err;
        }
        // The phase in progress is the one whose step failed.
        const failure = describeFailure(err, progress.phase);
        const holdMs = input.failureHoldHours * HOUR;
        await tellSession(courseFinishedSignal, course.failed(failure, Date.now() + holdMs));
        upsertSearchAttributes([{ key: ArchiveStatus, value: 'failed' }]);
        await notifySafely({
          kind: 'course-failed',
          workflowId: workflowInfo().workflowId,
          session: input.session,
          courseId: input.courseId,
          shortname: facts.shortname,
          ...failure,
          decisionDeadline: progress.decisionDeadline!,
        });
        try {
          await condition(() => course.decided, holdMs);
        } catch (e) {
          if (!isCancellation(e)) throw e; // cancelled while waiting: it stays failed
        }
        const decision = course.applyDecision();
        if (decision) upsertSearchAttributes([{ key: ArchiveStatus, value: progress.status }]);
        if (decision === 'retry') continue;
        // Closed for good (skipped, or no decision in time): no retry will use its backup on either host.
        await CancellationScope.nonCancellable(async () => {
          for (const step of DISCARD_STEPS) await runStep(step, DISCARD_OPTIONS);
        });
        if (decision === 'skip') return { ...course.outcome(), facts };
        // No decision in time: close as failed, so the Web UI shows it so.
        throw ApplicationFailure.nonRetryable(`${failure.phase}: ${failure.message}`, failure.errorType);
      }
    }
  } finally {
    // The session ignores a report it already has (the failure told before the hold).
    await tellSession(courseFinishedSignal, course.outcome());
  }
}
