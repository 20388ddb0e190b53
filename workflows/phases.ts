// The phase table: the six phases of seed 000, declared once. Everything that
// names a phase derives from these rows: the course workflow's loop, its
// progress and search attributes, the activity names the workers must
// implement, the duration model's defaults, the catalog's phase times, the
// plan and the bench's sequential baseline. Adding a phase is adding a row
// (and its activity).
//
// How steps run follows from their queues (stepRuns): a step on the main queue
// is a local activity of the course workflow (it runs on the worker that runs
// the workflow, no task to queue), and a phase's consecutive steps on one host
// are one activity task there. Each step keeps its own ledger entry.
import type { ActivityOptions } from '@temporalio/workflow';

/** Where a step runs: the web-service worker, or the source or target Moodle host. */
export type QueueRole = 'main' | 'source' | 'target';

/** What a phase costs before any measurement: a fixed time plus time per MB and per activity. */
export interface PhaseCost {
  fixedSeconds: number;
  secondsPerMB: number;
  secondsPerActivity: number;
}

/** The catalog columns that hold when a phase ended (prisma/models.prisma). */
export type CatalogPhaseTime = 'preparedAt' | 'backedUpAt' | 'transportedAt' | 'restoredAt' | 'verifiedAt' | 'cleanedAt';

export interface PhaseStep {
  /** The activity that runs this step: (PhaseRequest) => Promise<CourseFacts>, on the step's queue. */
  activity: string;
  queue: QueueRole;
}

export interface Phase {
  name: string;
  steps: readonly PhaseStep[];
  /** On cancellation: 'abort' stops the running step at once (its activity sees
   * it through heartbeats); 'finish' lets the phase complete, then stops, because
   * interrupting it would leave a half-restored or half-deleted course. */
  onCancel: 'abort' | 'finish';
  options: Omit<ActivityOptions, 'taskQueue'>;
  /** Defaults of the duration model, from a real Moodle 4.5 on 2 cores (see workflows/prediction.ts). */
  cost: PhaseCost;
  /** The catalog column that records when this phase ended, if any. */
  catalogTime?: CatalogPhaseTime;
}

// Eight attempts span about two minutes: a Moodle restarting or a proxy down for a minute fails no course.
const quick = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 };
// Ten attempts span about five minutes: a Moodle down or slow, or a full staging disk, is waited
// out. A failing admin script stops sooner: activities/failures.ts gives it SCRIPT_ATTEMPTS.
const hostJob = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 };

// Costs, measured on two real Moodle 4.5.11 sites on 2 cores (npm run test:moodle, README "Real-site
// figures"): an XS course (10 modules) prepared in 0.3 s, backed up in 0.9-1.2 s, restored in 1.5-1.7 s,
// verified in 0.3 s, deleted in 1.0-1.1 s; an S course (9.4 MB, 64 modules) backed up in 3.9 s and
// restored in 5.7 s. Real sites differ; measurements take over within a few courses.
export const PHASES = [
  {
    name: 'prepare',
    steps: [{ activity: 'prepareCourse', queue: 'main' }],
    onCancel: 'abort',
    // A heartbeat timeout, so a prepare lost with its worker is retried after 30 s, not after the whole 5 min.
    options: { startToCloseTimeout: '5m', heartbeatTimeout: '30s', retry: quick },
    cost: { fixedSeconds: 0.3, secondsPerMB: 0, secondsPerActivity: 0.005 },
    catalogTime: 'preparedAt',
  },
  // Admin scripts heartbeat at least every 10 s: 30 s without one means their worker died, and
  // another worker takes the phase over.
  {
    name: 'backup',
    steps: [{ activity: 'backupCourse', queue: 'source' }],
    onCancel: 'abort',
    options: { startToCloseTimeout: '8h', heartbeatTimeout: '30s', retry: hostJob },
    cost: { fixedSeconds: 0.9, secondsPerMB: 0.22, secondsPerActivity: 0.014 },
    catalogTime: 'backedUpAt',
  },
  // A transfer heartbeats its offset all along: 30 s without one, and another attempt resumes it.
  {
    name: 'transport',
    steps: [{ activity: 'transportBackup', queue: 'target' }],
    onCancel: 'abort',
    options: { startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: hostJob },
    cost: { fixedSeconds: 0.2, secondsPerMB: 0.02, secondsPerActivity: 0 },
    catalogTime: 'transportedAt',
  },
  // Restore, then verify the copy where it was made (a cold storage's package is re-read where it is mounted),
  // then drop the staged backup a verified copy no longer needs: one task on the target host. A verification that
  // fails sends the course back to restore, which adopts its marked copy instead of restoring again.
  {
    name: 'restore',
    steps: [
      { activity: 'restoreCourse', queue: 'target' },
      { activity: 'verifyArchive', queue: 'target' },
      { activity: 'removeTargetStaging', queue: 'target' },
    ],
    onCancel: 'finish',
    options: { startToCloseTimeout: '8h', heartbeatTimeout: '30s', retry: hostJob },
    cost: { fixedSeconds: 1.3, secondsPerMB: 0.09, secondsPerActivity: 0.065 },
    catalogTime: 'restoredAt',
  },
  // The verified archive into the catalog, by the main worker (the one that reaches it), before anything is deleted.
  {
    name: 'postprocess',
    steps: [{ activity: 'recordArchive', queue: 'main' }],
    onCancel: 'finish',
    options: { startToCloseTimeout: '2h', heartbeatTimeout: '2m', retry: quick },
    cost: { fixedSeconds: 0.05, secondsPerMB: 0, secondsPerActivity: 0 },
    catalogTime: 'verifiedAt',
  },
  {
    name: 'cleanup',
    steps: [
      { activity: 'deleteSourceCourse', queue: 'source' },
      { activity: 'removeSourceStaging', queue: 'source' },
      { activity: 'closeCatalogEntry', queue: 'main' },
    ],
    onCancel: 'finish',
    options: { startToCloseTimeout: '2h', heartbeatTimeout: '2m', retry: hostJob },
    cost: { fixedSeconds: 0.9, secondsPerMB: 0, secondsPerActivity: 0.02 },
    catalogTime: 'cleanedAt',
  },
] as const satisfies readonly Phase[];

export type PhaseName = (typeof PHASES)[number]['name'];
export const PHASE_NAMES: readonly PhaseName[] = PHASES.map((p) => p.name);

/** The steps of course workflows started before steps ran together (CourseInput.stepsTogether unset): their
 * histories replay against these, each step its own activity. Kept until no such course can still run. */
const EARLIER_STEPS: Partial<Record<PhaseName, readonly { activity: PhaseActivityName; queue: QueueRole }[]>> = {
  restore: [{ activity: 'restoreCourse', queue: 'target' }],
  postprocess: [
    { activity: 'verifyArchive', queue: 'target' },
    { activity: 'recordArchive', queue: 'main' },
  ],
  cleanup: [
    { activity: 'deleteSourceCourse', queue: 'source' },
    { activity: 'removeSourceStaging', queue: 'source' },
    { activity: 'removeTargetStaging', queue: 'target' },
    { activity: 'closeCatalogEntry', queue: 'main' },
  ],
};
export const EARLIER_PHASES: readonly CoursePhase[] = PHASES.map((p) => ({ ...p, steps: EARLIER_STEPS[p.name] ?? p.steps }));

/** A phase as the course workflow runs it. */
export type CoursePhase = Phase & { name: PhaseName; steps: readonly { activity: PhaseActivityName; queue: QueueRole }[] };

/** What a cancelled course runs to leave no staging file behind. */
export const DISCARD_STEPS = [
  { activity: 'removeSourceStaging', queue: 'source' },
  { activity: 'removeTargetStaging', queue: 'target' },
] as const satisfies readonly PhaseStep[];
// File removals take a moment: a discard lost with its worker is retried after a minute.
export const DISCARD_OPTIONS: Phase['options'] = { startToCloseTimeout: '1m', retry: quick };

/** Every activity a phase step may name: activities/ must implement each as (PhaseRequest) => Promise<CourseFacts>. */
export type PhaseActivityName = (typeof PHASES)[number]['steps'][number]['activity'] | (typeof DISCARD_STEPS)[number]['activity'];

/** Steps that run together: one activity task on a host queue, or one local activity on the main worker. */
export interface StepRun {
  queue: QueueRole;
  steps: PhaseActivityName[];
}

/** A phase's steps as they run: consecutive steps on one queue together. */
export function stepRuns(steps: readonly { activity: PhaseActivityName; queue: QueueRole }[]): StepRun[] {
  const runs: StepRun[] = [];
  for (const s of steps) {
    const last = runs.at(-1);
    if (last?.queue === s.queue) last.steps.push(s.activity);
    else runs.push({ queue: s.queue, steps: [s.activity] });
  }
  return runs;
}

export const phaseIndex = (name: PhaseName) => PHASE_NAMES.indexOf(name);

/** The default costs of the duration model, phase by phase. */
export const DEFAULT_PHASE_COSTS = Object.fromEntries(PHASES.map((p) => [p.name, p.cost])) as Record<PhaseName, PhaseCost>;

/** The host a phase loads: its first step's queue. */
export const phaseQueueRoles = Object.fromEntries(PHASES.map((p) => [p.name, p.steps[0].queue])) as Record<PhaseName, QueueRole>;
