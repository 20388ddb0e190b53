// archiveCourse: one course through the phase table, one activity per step
// on the queue the step names. Its phase is in its search attributes; it
// tells its session when it holds and, from a `finally`, how it ended, so a
// failed course never leaves the session waiting. A failed course stays
// open, searchable as ArchiveStatus="failed", until the operator retries it (it resumes at the
// failed phase) or skips it, or until the hold runs out. Cancelled, it stops
// at once in phases that can be interrupted, after the phase otherwise, and
// removes its staging files. Between two phases it holds while the session's
// window is closed (a durable timer to the opening) or while drained.
// The course's state and rules are CourseState's; this file wires them to Temporal.
//
// Its steps run as the phase table's stepRuns say: a main-queue step is a local
// activity, which also puts into the ledger the steps done on the hosts since the
// last one; a phase's steps on one host are one task. Its phase goes into the
// search attributes when a host task or a wait begins (a local step is over
// within the workflow task), and it tells its session through a local activity.
// A course started by an earlier release (no `stepsTogether`) replays as it ran:
// each step its own activity, the ledger by its own local activity per phase,
// the session told by signal, each phase in the search attributes as it begins.
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
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StepRunResult, StepsDone } from '../activities/step-runs';
import { FailureType, HOUR, siteQueue } from '../contract';
import { CourseState, type CourseProgress } from './course-state';
import {
  courseDecisionSignal,
  courseFinishedSignal,
  courseHoldSignal,
  coursePingSignal,
  courseProgressQuery,
  coursePhaseSignal,
} from './messages';
import { notifySafely } from './notify';
import {
  DISCARD_OPTIONS,
  DISCARD_STEPS,
  EARLIER_PHASES,
  PHASE_NAMES,
  PHASES,
  stepRuns,
  type Phase,
  type PhaseActivityName,
  type QueueRole,
  type StepRun,
} from './phases';
import { ArchivePhase, ArchiveStatus } from './search-attributes';
import type { CourseFacts, CourseFailure, CourseInput, CourseOutcome, CourseResult, StepRecord } from './types';
import { WindowCalendar } from './windows';
import { courseFailures, coursesFinished, phaseDuration } from './metrics';

/** What a run of steps learned, without its per-step list (that goes to the ledger). */
function stripSteps(out: StepRunResult): CourseFacts {
  const facts = { ...out };
  delete facts.stepsRun;
  return facts;
}

function describeFailure(err: unknown, phase: string): CourseFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { phase, errorType: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { phase, errorType: cause.name, message: cause.message };
  return { phase, errorType: 'Error', message: String(cause) };
}

const { recordSteps, tellSession: tellSessionLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumInterval: '30s' },
});

/** The result as a course returns it: its phase times as ISO strings. */
const asResult = (outcome: CourseOutcome, facts: CourseFacts): CourseResult => ({
  ...outcome,
  facts: {
    ...facts,
    phaseTimes: Object.fromEntries(
      Object.entries(facts.phaseTimes ?? {}).map(([p, [a, b]]) => [p, [new Date(a).toISOString(), new Date(b).toISOString()]]),
    ),
  },
});

export async function archiveCourse(input: CourseInput): Promise<CourseResult> {
  const queueOf: Record<QueueRole, string> = {
    main: workflowInfo().taskQueue,
    source: siteQueue(input.sourceSiteId),
    target: siteQueue(input.targetSiteId),
  };
  const together = input.stepsTogether === true;
  const course = new CourseState(input.courseId, together ? PHASES : EARLIER_PHASES);
  const { facts, progress } = course;
  setHandler(courseProgressQuery, () => progress);
  setHandler(courseDecisionSignal, (d) => course.decide(d));
  setHandler(coursePingSignal, () => {});
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
      if (together) return tellSessionLocally({ workflowId: parentId, signal: signal.name, args });
      try {
        await getExternalWorkflowHandle(parentId).signal(signal, ...args);
      } catch {
        // The session is gone (terminated or finished): nothing to tell.
      }
    });
  // The phase shown in the search attributes: set at once by an earlier release's course; else when a host task or a
  // wait begins, or the course ends, in the same command as its status then.
  let phaseShown = together ? 'prepare' : undefined;
  let phaseToShow: string | undefined;
  const showPhase = (phase: string) => {
    setCurrentDetails(course.currentDetails());
    if (!together) upsertSearchAttributes([{ key: ArchivePhase, value: phase }]);
    else phaseToShow = phase;
  };
  const showNow = (status?: CourseProgress['status']) => {
    setCurrentDetails(course.currentDetails());
    const pending = phaseToShow !== undefined && phaseToShow !== phaseShown ? phaseToShow : undefined;
    if (pending === undefined && status === undefined) return;
    upsertSearchAttributes([
      ...(pending !== undefined ? [{ key: ArchivePhase, value: pending }] : []),
      ...(status !== undefined ? [{ key: ArchiveStatus, value: status }] : []),
    ]);
    phaseShown = pending ?? phaseShown;
  };
  let steps = 0;
  const nextKey = () => `${workflowInfo().runId}/${++steps}`;
  /** Steps done and not in the ledger yet: the next local step writes them, or they go in when the course stops. */
  const unrecorded: StepRecord[] = [];
  /** One run of steps (stepRuns): a local activity on the main worker, else one task on the host's queue. */
  const runTogether = async (run: StepRun, options: Phase['options']) => {
    course.enterStep(run.steps[0]);
    setCurrentDetails(course.currentDetails());
    const [first, ...andThen] = run.steps;
    const request = { course: input, facts, ...(andThen.length ? { andThen } : {}) };
    if (run.queue === 'main') {
      // A local activity has no heartbeat: a worker lost during it times its workflow task out, and it runs again.
      const local = { startToCloseTimeout: options.startToCloseTimeout, retry: options.retry };
      const keys = run.steps.map(nextKey);
      const out = await proxyLocalActivities<Activities>(local)[first]({ ...request, ledger: { before: [...unrecorded], keys } });
      // Written by the step, with its own entries.
      unrecorded.length = 0;
      course.learned(stripSteps(out));
      return;
    }
    showNow();
    const out = await proxyActivities<Activities>({
      ...options,
      taskQueue: queueOf[run.queue],
      summary: run.steps.join(', '),
      // Said explicitly: left unset, the SDK does TRY_CANCEL, and the staging files would be
      // discarded while a cancelled backup is still writing its file.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    })
      [first](request)
      .catch((err: unknown) => {
        // The steps of the task that completed before one failed: they happened, so they go into the ledger.
        const cause = err instanceof ActivityFailure ? err.cause : undefined;
        const done = cause instanceof ApplicationFailure ? (cause.details?.[0] as StepsDone | undefined) : undefined;
        for (const r of done?.stepsRun ?? []) unrecorded.push({ ...r, entryKey: nextKey() });
        throw err;
      });
    course.learned(stripSteps(out));
    for (const r of out.stepsRun ?? [{ activity: first, facts: out }]) unrecorded.push({ ...r, entryKey: nextKey() });
  };
  /** An earlier release's step: its own activity, whatever its queue. */
  const runAlone = async (step: { activity: PhaseActivityName; queue: QueueRole }, options: Phase['options']) => {
    course.enterStep(step.activity);
    const out = await proxyActivities<Activities>({
      ...options,
      taskQueue: queueOf[step.queue],
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    })[step.activity]({ course: input, facts });
    course.learned(out);
    unrecorded.push({ activity: step.activity, facts: out, entryKey: nextKey() });
  };
  /** Puts the steps done and not in the ledger yet into it. */
  const recordDone = async () => {
    if (unrecorded.length) await CancellationScope.nonCancellable(() => recordSteps({ course: input, steps: unrecorded.splice(0) }));
  };
  /** Runs steps. Those that completed go into the ledger even if one failed or a cancellation came (they did happen):
   * at once, or (steps together) with the next local step, or before the course ends. */
  const runSteps = async (list: readonly { activity: PhaseActivityName; queue: QueueRole }[], options: Phase['options']) => {
    try {
      if (together) {
        for (const run of stepRuns(list)) {
          await runTogether(run, options);
          if (course.redoReason) break; // nothing more of this archive: it is made again
        }
      } else {
        for (const step of list) {
          await runAlone(step, options);
          if (course.redoReason) break;
        }
      }
    } catch (err) {
      await recordDone();
      throw err;
    }
    if (!together) await recordDone();
  };
  const windowNow = () => calendar?.at(Date.now());
  const mayGo = () => (windowNow()?.open ?? true) && !course.held;
  /** Before a phase: hold while the window is closed or the session drains; the running phase always finishes.
   * True when it held (and told the session so). */
  const waitForGo = async () => {
    let told = false;
    for (; !mayGo(); told = true) {
      const w = windowNow();
      const closed = w && !w.open ? w : undefined;
      course.waitFor(closed ? `the window (opens ${calendar!.local(closed.opensAt)})` : 'resume (the session was paused with drain)');
      setCurrentDetails(course.currentDetails());
      if (!told) await tellSession(coursePhaseSignal, { courseId: input.courseId, phase: 'waiting' });
      if (closed) await sleep(Math.max(1, closed.opensAt - Date.now()));
      else await condition(() => !course.held);
    }
    course.waitFor(undefined);
    return told;
  };
  const setStatus = (status: typeof progress.status) => {
    course.setStatus(status);
    showNow(status);
  };

  try {
    attempt: for (;;) {
      try {
        for (const phase of course.phasesToRun()) {
          course.enterPhase(phase.name);
          // The phase is in the search attributes (operators and `status` count by it); the session hears of it
          // only after a hold. Telling it takes a round trip: the window may have closed meanwhile.
          for (let held = await waitForGo(); ; held = await waitForGo()) {
            course.phaseStarted(Date.now());
            showPhase(phase.name);
            if (held) await tellSession(coursePhaseSignal, { courseId: input.courseId, phase: phase.name });
            if (mayGo()) break;
          }
          const started = Date.now();
          const runPhase = () => runSteps(phase.steps, phase.options);
          await (phase.onCancel === 'finish' ? CancellationScope.nonCancellable(runPhase) : runPhase());
          course.phaseEnded(phase.name, started, Date.now());
          phaseDuration.record((Date.now() - started) / 1000, { phase: phase.name });
          setCurrentDetails(course.currentDetails());
          // A cancel that comes once the last phase is over finds nothing left to stop: the course is archived, and says
          // so (its report, sent from a local activity, may already have reached the session).
          const over = together && phase.name === PHASE_NAMES.at(-1);
          if (root.consideredCancelled && !over) throw new CancelledFailure(`cancelled after ${phase.name}`);
          if (course.redoReason) break;
          if (facts.heldBy) {
            // Another run holds this course: while it runs, this one leaves the course to it; once it no longer
            // runs (a signal to it fails), this one takes the course over and prepares again.
            const heldBy = facts.heldBy;
            const running = await getExternalWorkflowHandle(heldBy)
              .signal(coursePingSignal)
              .then(
                () => true,
                () => false,
              );
            if (running) {
              course.leaveTo(heldBy);
              break;
            }
            course.takeOverFrom(heldBy);
            continue attempt;
          }
        }
        if (course.redoReason) {
          // Edited during its archive: this archive's staging files go, and the course is archived again, as a
          // new version, from prepare. The source stays until an archive of it as it is then is verified.
          await CancellationScope.nonCancellable(() => runSteps(DISCARD_STEPS, DISCARD_OPTIONS));
          const tooMany = course.startOver();
          if (tooMany) throw ApplicationFailure.nonRetryable(tooMany, FailureType.SourceKeepsChanging);
          continue;
        }
        const outcome = course.completed();
        showNow(outcome.status);
        return asResult(outcome, facts);
      } catch (err) {
        if (isCancellation(err)) {
          setStatus('cancelled');
          await CancellationScope.nonCancellable(() => runSteps(DISCARD_STEPS, DISCARD_OPTIONS));
          throw err;
        }
        // The phase in progress is the one whose step failed.
        const failure = describeFailure(err, progress.phase);
        const holdMs = input.failureHoldHours * HOUR;
        const named = facts.shortname ? { ...failure, shortname: facts.shortname } : failure;
        courseFailures.add(1, { type: failure.errorType, phase: failure.phase });
        await tellSession(courseFinishedSignal, course.failed(named, Date.now() + holdMs));
        showNow('failed');
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
        if (decision) showNow(progress.status);
        if (decision === 'retry') continue;
        // Closed for good (skipped, or no decision in time): no retry will use its backup on either host.
        await CancellationScope.nonCancellable(() => runSteps(DISCARD_STEPS, DISCARD_OPTIONS));
        if (decision === 'skip') return asResult(course.outcome(), facts);
        // No decision in time: close as failed, so the Web UI shows it so.
        throw ApplicationFailure.nonRetryable(`${failure.phase}: ${failure.message}`, failure.errorType);
      }
    }
  } finally {
    await recordDone();
    const outcome = course.outcome();
    coursesFinished.add(1, { status: outcome.status });
    // The session ignores a report it already has (the failure told before the hold).
    await tellSession(courseFinishedSignal, outcome);
  }
}
