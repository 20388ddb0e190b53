// archiveCourse: one course through the phase table, one activity per step
// on the queue the step names. Whatever happens, the course reports its
// outcome to its session by signal, so a failed course never leaves the
// session waiting and never fails it.
import {
  ActivityFailure, ApplicationFailure, getExternalWorkflowHandle, proxyActivities, setHandler,
  upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { courseFinishedSignal, courseProgressQuery } from './messages';
import { PHASES, siteQueue, type PhaseName, type QueueRole } from './phases';
import { ArchiveCourseId, ArchivePhase, ArchiveSession, ArchiveStatus, ArchiveVintage } from './search-attributes';
import type { CourseFacts, CourseFailure, CourseInput, CourseOutcome, CourseStatus } from './types';

export interface CourseProgress {
  courseId: number;
  phase: PhaseName | 'pending' | 'done';
  status: CourseStatus | 'running';
  facts: CourseFacts;
  failure?: CourseFailure;
}

function describeFailure(err: unknown, phase: string): CourseFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { phase, errorType: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { phase, errorType: cause.name, message: cause.message };
  return { phase, errorType: 'Error', message: String(cause) };
}

export async function archiveCourse(input: CourseInput): Promise<CourseOutcome & { facts: CourseFacts }> {
  const queueOf: Record<QueueRole, string> = {
    main: workflowInfo().taskQueue,
    source: siteQueue(input.sourceSiteId),
    target: siteQueue(input.targetSiteId),
  };
  const progress: CourseProgress = { courseId: input.courseId, phase: 'pending', status: 'running', facts: {} };
  setHandler(courseProgressQuery, () => progress);
  upsertSearchAttributes([
    { key: ArchiveSession, value: input.session },
    { key: ArchiveVintage, value: input.vintage },
    { key: ArchiveCourseId, value: input.courseId },
    { key: ArchiveStatus, value: 'running' },
  ]);

  let outcome: CourseOutcome = { courseId: input.courseId, status: 'failed' };
  const facts: CourseFacts = { phaseTimes: {} };
  progress.facts = facts;
  try {
    for (const phase of PHASES) {
      progress.phase = phase.name;
      upsertSearchAttributes([{ key: ArchivePhase, value: phase.name }]);
      const started = Date.now();
      for (const step of phase.steps) {
        const activity = proxyActivities<Activities>({ ...phase.options, taskQueue: queueOf[step.queue] })[step.activity];
        Object.assign(facts, await activity({ course: input, facts }));
      }
      facts.phaseTimes![phase.name] = [started, Date.now()];
      if (facts.skipReason) break;
    }
    progress.phase = 'done';
    outcome = { courseId: input.courseId, status: facts.skipReason ? 'skipped' : 'succeeded' };
  } catch (err) {
    // progress.phase still names the phase whose step failed.
    outcome = { courseId: input.courseId, status: 'failed', failure: describeFailure(err, progress.phase) };
    progress.failure = outcome.failure;
  } finally {
    progress.status = outcome.status;
    upsertSearchAttributes([{ key: ArchiveStatus, value: outcome.status }]);
    const parent = workflowInfo().parent;
    if (parent) {
      try {
        // By workflow ID only: the signal reaches the session's current run, even after continue-as-new.
        await getExternalWorkflowHandle(parent.workflowId).signal(courseFinishedSignal, outcome);
      } catch {
        // The session is gone (terminated or finished): nothing to tell.
      }
    }
  }
  if (outcome.status === 'failed') {
    // Fail the course's own execution too, so the Web UI shows it as failed.
    throw ApplicationFailure.nonRetryable(`${outcome.failure!.phase}: ${outcome.failure!.message}`, outcome.failure!.errorType);
  }
  return { ...outcome, facts };
}
