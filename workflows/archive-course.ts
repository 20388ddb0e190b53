// archiveCourse: one course through the phase table, one activity per step
// on the queue the step names. It tells its session each phase it enters
// and, from a `finally`, how it ended, so a failed course never leaves the
// session waiting. A failed course stays open, searchable as
// ArchiveStatus="failed", until the operator retries it (it resumes at the
// failed phase) or skips it, or until the hold runs out. Cancelled, it stops
// at once in phases that can be interrupted, after the phase otherwise, and
// removes its staging files. Between two phases it holds while the session's
// window is closed (a durable timer to the opening) or while drained.
import {
  ActivityCancellationType, ActivityFailure, ApplicationFailure, CancellationScope, CancelledFailure, condition, getExternalWorkflowHandle,
  isCancellation, proxyActivities, proxyLocalActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo, type SignalDefinition,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  courseDecisionSignal, courseFinishedSignal, courseHoldSignal, courseProgressQuery, coursePhaseSignal, type CourseDecision,
} from './messages';
import {
  DISCARD_OPTIONS, DISCARD_STEPS, PHASE_NAMES, PHASES, siteQueue, type PhaseActivityName, type PhaseName, type PhaseStep,
  type QueueRole,
} from './phases';
import { notifySafely } from './notify';
import { ArchiveCourseId, ArchivePhase, ArchiveSession, ArchiveStatus, ArchiveVintage } from './search-attributes';
import { HOUR } from './session-state';
import type { CourseFacts, CourseFailure, CourseInput, CourseOutcome, CourseStatus } from './types';
import { WindowCalendar } from './windows';

export interface CourseProgress {
  courseId: number;
  phase: PhaseName | 'pending' | 'done';
  step?: PhaseActivityName;
  phaseStartedAt?: string;
  status: CourseStatus | 'running';
  /** Times the operator sent this course back after a failure. */
  retries: number;
  /** A failed course waits for `retry` or `skip` until then. */
  decisionDeadline?: string;
  /** Set while it holds before `phase`: what it waits for. */
  waitingFor?: string;
  facts: CourseFacts;
  failure?: CourseFailure;
}

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
  const facts: CourseFacts = { phaseTimes: {} };
  const progress: CourseProgress = { courseId: input.courseId, phase: 'pending', status: 'running', retries: 0, facts };
  let decision: CourseDecision | undefined;
  let held = false;
  setHandler(courseProgressQuery, () => progress);
  setHandler(courseDecisionSignal, (d) => { if (progress.status === 'failed') decision = d; });
  setHandler(courseHoldSignal, (hold) => { held = hold; });
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
  const runStep = async (step: PhaseStep, options: typeof DISCARD_OPTIONS) => {
    progress.step = step.activity;
    const activity = proxyActivities<Activities>({
      ...options,
      taskQueue: queueOf[step.queue],
      // Said explicitly: left unset, the SDK does TRY_CANCEL, and the staging files would be
      // discarded while a cancelled backup is still writing its file.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    })[step.activity];
    const out = await activity({ course: input, facts });
    Object.assign(facts, out);
    // Into the ledger, even if a cancellation arrives now: the step did happen.
    const entryKey = `${workflowInfo().runId}/${++steps}`;
    await CancellationScope.nonCancellable(() => recordStep({ course: input, activity: step.activity, facts: out, entryKey }));
  };
  const mayGo = () => { const w = calendar?.at(Date.now()); return (!w || w.open) && !held; };
  /** Before a phase: hold while the window is closed or the session drains; the running phase always finishes. */
  const waitForGo = async () => {
    for (let told = false; ;) {
      const w = calendar?.at(Date.now());
      if (mayGo()) break;
      progress.waitingFor = held ? 'resume (the session was paused with drain)' : `the window (opens ${calendar!.local((w as { opensAt: number }).opensAt)})`;
      if (!told) await tellSession(coursePhaseSignal, { courseId: input.courseId, phase: 'waiting' });
      told = true;
      if (w && !w.open) await sleep(Math.max(1, w.opensAt - Date.now()));
      else await condition(() => !held);
    }
    progress.waitingFor = undefined;
  };
  const phaseSeconds = () => Object.fromEntries(Object.entries(facts.phaseTimes ?? {}).map(([p, [a, b]]) => [p, (b - a) / 1000]));
  const setStatus = (status: CourseProgress['status']) => {
    progress.status = status;
    upsertSearchAttributes([{ key: ArchiveStatus, value: status }]);
  };

  upsertSearchAttributes([
    { key: ArchiveSession, value: input.session },
    { key: ArchiveVintage, value: input.vintage },
    { key: ArchiveCourseId, value: input.courseId },
    { key: ArchiveStatus, value: 'running' },
  ]);

  let outcome: CourseOutcome = { courseId: input.courseId, status: 'failed' };
  let from = 0;
  try {
    for (;;) {
      try {
        for (const phase of PHASES.slice(from)) {
          if (facts.resumeAt && PHASE_NAMES.indexOf(facts.resumeAt as PhaseName) > PHASE_NAMES.indexOf(phase.name)) continue;
          progress.phase = phase.name;
          progress.step = undefined;
          // Telling the session takes a round trip: the window may have closed meanwhile.
          do {
            await waitForGo();
            progress.phaseStartedAt = new Date().toISOString();
            upsertSearchAttributes([{ key: ArchivePhase, value: phase.name }]);
            await tellSession(coursePhaseSignal, { courseId: input.courseId, phase: phase.name });
          } while (!mayGo());
          const started = Date.now();
          const steps = async () => { for (const step of phase.steps) await runStep(step, phase.options); };
          await (phase.onCancel === 'finish' ? CancellationScope.nonCancellable(steps) : steps());
          facts.phaseTimes![phase.name] = [started, Date.now()];
          if (facts.skipReason) break;
          if (root.consideredCancelled) throw new CancelledFailure(`cancelled after ${phase.name}`);
        }
        progress.phase = 'done';
        outcome = { courseId: input.courseId, status: facts.skipReason ? 'skipped' : 'succeeded' };
        setStatus(outcome.status);
        return { ...outcome, facts };
      } catch (err) {
        if (isCancellation(err)) {
          outcome = { courseId: input.courseId, status: 'cancelled' };
          await CancellationScope.nonCancellable(async () => { for (const step of DISCARD_STEPS) await runStep(step, DISCARD_OPTIONS); });
          setStatus('cancelled');
          throw err;
        }
        // progress.phase still names the phase whose step failed.
        const failure = describeFailure(err, progress.phase);
        outcome = { courseId: input.courseId, status: 'failed', failure };
        progress.failure = failure;
        setStatus('failed');
        await tellSession(courseFinishedSignal, { ...outcome, phaseSeconds: phaseSeconds() });
        const holdMs = input.failureHoldHours * HOUR;
        progress.decisionDeadline = new Date(Date.now() + holdMs).toISOString();
        await notifySafely({
          kind: 'course-failed', workflowId: workflowInfo().workflowId, session: input.session, courseId: input.courseId,
          shortname: facts.shortname, ...failure, decisionDeadline: progress.decisionDeadline,
        });
        try {
          await condition(() => decision !== undefined, holdMs);
        } catch (e) {
          if (!isCancellation(e)) throw e; // cancelled while waiting: it stays failed
        }
        progress.decisionDeadline = undefined;
        if (decision === 'retry') {
          decision = undefined;
          progress.retries++;
          progress.failure = undefined;
          from = PHASE_NAMES.indexOf(failure.phase as PhaseName);
          setStatus('running');
          continue;
        }
        if (decision === 'skip') {
          facts.skipReason = `skipped by the operator after ${failure.phase} failed: ${failure.message}`;
          outcome = { courseId: input.courseId, status: 'skipped' };
          setStatus('skipped');
          return { ...outcome, facts };
        }
        // No decision in time: close as failed, so the Web UI shows it so.
        throw ApplicationFailure.nonRetryable(`${failure.phase}: ${failure.message}`, failure.errorType);
      }
    }
  } finally {
    // The session ignores a report it already has (the failure told before the hold).
    await tellSession(courseFinishedSignal, { ...outcome, phaseSeconds: phaseSeconds() });
  }
}
