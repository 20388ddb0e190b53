// Signals and queries of the two workflows, declared once for workflows and clients.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CourseOutcome } from './types';
import type { SessionProgress } from './session-state';
import type { CourseProgress } from './archive-course';

export const courseFinishedSignal = defineSignal<[CourseOutcome]>('courseFinished');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const progressQuery = defineQuery<SessionProgress>('progress');
export const courseProgressQuery = defineQuery<CourseProgress>('progress');
