// The phase table: the six phases of seed 000, declared once. The course
// workflow's loop, its progress and its search attributes derive from it;
// adding a phase is adding a row (and its activity).
import type { ActivityOptions } from '@temporalio/workflow';

/** Where a step runs: the web-service worker, or the source or target Moodle host. */
export type QueueRole = 'main' | 'source' | 'target';

export interface PhaseStep {
  activity: PhaseActivityName;
  queue: QueueRole;
}

export interface Phase {
  name: string;
  steps: PhaseStep[];
  /** On cancellation: 'abort' stops the running step at once (its activity sees
   * it through heartbeats); 'finish' lets the phase complete, then stops, because
   * interrupting it would leave a half-restored or half-deleted course. */
  onCancel: 'abort' | 'finish';
  options: Omit<ActivityOptions, 'taskQueue'>;
}

// Eight attempts span about two minutes: a Moodle restarting or a proxy down for a minute fails no course.
const quick = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 };
// Ten attempts span about five minutes: a Moodle down or slow, or a full staging disk, is waited
// out. A failing admin script stops sooner: activities/failures.ts gives it SCRIPT_ATTEMPTS.
const hostJob = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 };

export const PHASES = [
  { name: 'prepare', steps: [{ activity: 'prepareCourse', queue: 'main' }], onCancel: 'abort',
    options: { startToCloseTimeout: '5m', retry: quick } },
  // Admin scripts heartbeat at least every 10 s: 30 s without one means their worker died, and
  // another worker takes the phase over.
  { name: 'backup', steps: [{ activity: 'backupCourse', queue: 'source' }], onCancel: 'abort',
    options: { startToCloseTimeout: '8h', heartbeatTimeout: '30s', retry: hostJob } },
  // A transfer heartbeats its offset all along: 30 s without one, and another attempt resumes it.
  { name: 'transport', steps: [{ activity: 'transportBackup', queue: 'target' }], onCancel: 'abort',
    options: { startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: hostJob } },
  { name: 'restore', steps: [{ activity: 'restoreCourse', queue: 'target' }], onCancel: 'finish',
    options: { startToCloseTimeout: '8h', heartbeatTimeout: '30s', retry: hostJob } },
  // Verified on the target host (a cold storage's package is re-read where it is mounted),
  // recorded by the main worker, the one that reaches the catalog.
  { name: 'postprocess', steps: [{ activity: 'verifyArchive', queue: 'target' }, { activity: 'recordArchive', queue: 'main' }], onCancel: 'finish',
    options: { startToCloseTimeout: '2h', heartbeatTimeout: '2m', retry: quick } },
  { name: 'cleanup', steps: [
      { activity: 'deleteSourceCourse', queue: 'source' },
      { activity: 'removeSourceStaging', queue: 'source' },
      { activity: 'removeTargetStaging', queue: 'target' },
      { activity: 'closeCatalogEntry', queue: 'main' },
    ], onCancel: 'finish',
    options: { startToCloseTimeout: '2h', heartbeatTimeout: '2m', retry: hostJob } },
] as const satisfies readonly Phase[];

export type PhaseName = (typeof PHASES)[number]['name'];
export const PHASE_NAMES = PHASES.map((p) => p.name) as PhaseName[];

/** What a cancelled course runs to leave no staging file behind. */
export const DISCARD_STEPS: readonly PhaseStep[] = [
  { activity: 'removeSourceStaging', queue: 'source' },
  { activity: 'removeTargetStaging', queue: 'target' },
];
export const DISCARD_OPTIONS: Phase['options'] = { startToCloseTimeout: '5m', retry: quick };

/** Every activity a phase step may name; activities/ implements each with one signature. */
export type PhaseActivityName =
  | 'prepareCourse' | 'backupCourse' | 'transportBackup' | 'restoreCourse'
  | 'verifyArchive' | 'recordArchive' | 'deleteSourceCourse' | 'removeSourceStaging' | 'removeTargetStaging' | 'closeCatalogEntry';

export const siteQueue = (siteId: string) => `site/${siteId}`;

export const SESSION_ID_PREFIX = 'archive-session/';
export const sessionWorkflowId = (session: string) => `${SESSION_ID_PREFIX}${session}`;
export const courseWorkflowId = (session: string, courseId: number) => `archive-course/${session}/${courseId}`;
