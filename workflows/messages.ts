// Signals, updates and queries of the two workflows, declared once for
// workflows and clients.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CourseDecision, CourseOutcome } from './types';
import type { SessionProgress } from './session-progress';
import type { RunningCourse } from './session-state';
import type { CourseProgress } from './course-state';

// Course -> session.
export const courseFinishedSignal = defineSignal<[CourseOutcome]>('courseFinished');
/** The phase a course enters, or 'waiting' when it holds between two phases. */
export const coursePhaseSignal = defineSignal<[{ courseId: number; phase: Exclude<RunningCourse['phase'], 'starting'> }]>('coursePhase');

// Session -> failed course: what the operator decided.
export const courseDecisionSignal = defineSignal<[CourseDecision]>('courseDecision');
/** Session -> running course: hold at the next phase boundary (true, a drain) or go on (false, resume). */
export const courseHoldSignal = defineSignal<[boolean]>('hold');

// Operator -> session.
/** Start nothing new; with drain, running courses also hold at their next phase boundary. */
export const pauseSignal = defineSignal<[{ drain?: boolean }?]>('pause');
export const resumeSignal = defineSignal('resume');
/** Re-queue failed courses (all of them without ids); answers with the ids queued. */
export const retryFailedUpdate = defineUpdate<number[], [{ courseIds?: number[] }]>('retryFailed');
/** Give up on courses (failed, or not started yet); answers with the ids skipped. */
export const skipUpdate = defineUpdate<number[], [number[]]>('skip');

/** Courses at once from now on, without a restart; answers with the previous value. */
export const setConcurrencyUpdate = defineUpdate<number, [number]>('setConcurrency');

export const progressQuery = defineQuery<SessionProgress>('progress');
export const courseProgressQuery = defineQuery<CourseProgress>('progress');

/** Asks nothing: a course run that finds another holding its course signals it to learn whether it still runs. */
export const coursePingSignal = defineSignal('ping');
