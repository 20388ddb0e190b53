// Signals, updates and queries of the two workflows, declared once for
// workflows and clients.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PhaseName } from './phases';
import type { CourseOutcome } from './types';
import type { SessionProgress } from './session-state';
import type { CourseProgress } from './archive-course';

// Course -> session.
export const courseFinishedSignal = defineSignal<[CourseOutcome]>('courseFinished');
export const coursePhaseSignal = defineSignal<[{ courseId: number; phase: PhaseName }]>('coursePhase');

// Session -> failed course: what the operator decided.
export type CourseDecision = 'retry' | 'skip';
export const courseDecisionSignal = defineSignal<[CourseDecision]>('courseDecision');

// Operator -> session.
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Re-queue failed courses (all of them without ids); answers with the ids queued. */
export const retryFailedUpdate = defineUpdate<number[], [{ courseIds?: number[] }]>('retryFailed');
/** Give up on courses (failed, or not started yet); answers with the ids skipped. */
export const skipUpdate = defineUpdate<number[], [number[]]>('skip');

export const progressQuery = defineQuery<SessionProgress>('progress');
export const courseProgressQuery = defineQuery<CourseProgress>('progress');
