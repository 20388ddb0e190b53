// What flows through the workflows: inputs, per-course facts, results.
// Plain data only: this is what Temporal records in event history, so it
// never holds a URL with a token, a token, or a local secret.
import type { PhaseActivityName, PhaseCost, PhaseName } from './phases';
import type { VintageRule } from './vintage';
import type { SessionClock, WindowSpec } from './windows';

export interface SessionInput {
  /** Session name, unique per run of the archive: the workflow ID is archive-session/<session>. */
  session: string;
  /** Academic vintage label, e.g. "2024-2025". */
  vintage: string;
  sourceSiteId: string;
  sourceCategoryId: number;
  /** Also archive the courses of every subcategory. */
  includeSubcategories: boolean;
  /** More roots, single courses, exclusions: what the session archives besides its category. */
  selection?: CourseSelection;
  targetSiteId: string;
  targetCategoryId: number;
  /** Recreate the source subcategory tree under the target category. */
  mirrorSubcategories: boolean;
  /** Courses archived at once; changed live by the `setConcurrency` update, up to maxConcurrency. */
  concurrency: number;
  /** The most `setConcurrency` may set (default MAX_CONCURRENCY). */
  maxConcurrency?: number;
  /** When the session may load production; without it, at any time. */
  windows?: WindowSpec;
  /** Rehearsals and tests only: the windows read a clock that runs faster than real time. */
  clock?: SessionClock;
  /** How course durations are predicted, to start only courses that fit in what is left of a window. */
  prediction?: PredictionSettings;
  /** Delete each source course once its archive is verified. */
  deleteSource: boolean;
  /** Courses fetched per selection page. */
  pageSize?: number;
  /** Continue-as-new after this many course starts in one run (bounds history). */
  continueAsNewAfter?: number;
  /** Continue-as-new once a run's history has this many events (default RUN_EVENTS_BEFORE_ROLL_OVER). */
  continueAsNewAtEvents?: number;
  /** How long a failed course waits for `retry` or `skip` before it is closed as failed (default 168 h). */
  failureHoldHours?: number;
  /** When a session that began earlier and is still running selects some of the same courses: stop at once
   * (default), or wait until it ends. One session per course, always. */
  whenOverlapping?: 'refuse' | 'wait';
  /** Set by a scheduled session when it fires; each run writes it to its memo. */
  resolved?: ResolvedVintage;
}

/** Which courses a session archives besides those of its category (seed 000: "a discontinuous set of
 * courses under several roots"), and which it leaves out. */
export interface CourseSelection {
  /** More categories, with their subcategories when the session includes them; each is the mirror root of its courses. */
  moreCategoryIds?: number[];
  /** Single courses, wherever they are; one outside every root lands in the target category itself. */
  courseIds?: number[];
  /** Courses whose shortname, or idnumber, matches one of these patterns are left out (`*` and `?`, any case). */
  excludeShortnames?: string[];
  excludeIdnumbers?: string[];
}

/** What a schedule starts: a session whose vintage, category and name are resolved when it fires. */
export interface ScheduledSessionInput extends Omit<SessionInput, 'session' | 'vintage' | 'sourceCategoryId' | 'resolved'> {
  scheduleId: string;
  vintageRule: VintageRule;
}

/** What a scheduled session resolved when it fired: kept in its memo, and in its search attributes. */
export interface ResolvedVintage {
  scheduleId: string;
  firedAt: string;
  rule: string;
  vintage: string;
  categoryId: number;
  categoryName: string;
}

export interface PredictionSettings {
  /** Per-phase costs laid over the defaults (workflows/prediction.ts), before any measurement. */
  phaseCosts?: Partial<Record<PhaseName, Partial<PhaseCost>>>;
  /** A course starts only if its prediction × (1 + safetyMargin) fits in the window (default 0.25). */
  safetyMargin?: number;
}

/** What a course's workflow needs to hold at phase boundaries while the session's window is closed. */
export interface CourseWindows {
  spec: WindowSpec;
  clock?: SessionClock;
  /** The session's real start: the origin of its clock. */
  realStart: number;
}

/** A site's Moodle release, as its site info says (checked supported before a session starts work). */
export interface SiteRelease {
  siteId: string;
  release: string;
  version: string;
}

/** What the course workflow learns phase by phase; each phase returns a part of it. */
export interface CourseFacts {
  shortname?: string;
  fullname?: string;
  idnumber?: string;
  sourceCategoryId?: number;
  declaredBytes?: number;
  sectionCount?: number;
  activityCount?: number;
  fileCount?: number;
  /** Set by prepare when the course needs no work (already archived). */
  skipReason?: string;
  /** Set by prepare when an earlier run got this far: the phases before it are done. */
  resumeAt?: PhaseName;
  /** The source course as prepare read it (activities/source-fingerprint.ts). Its backup is of this state or a later
   * one; nothing is deleted unless the live course still has it. */
  sourceFingerprint?: string;
  /** The catalog's archive version this run makes or resumes: one more than the latest when the course changed since. */
  archiveVersion?: number;
  /** Set by prepare: why the course is archived again although the catalog holds an archive of it. */
  note?: string;
  /** Set by verification or cleanup: the live source changed since prepare, in words. The course is archived again. */
  sourceChanged?: string;
  /** Set by verification of a resumed archive: it is no longer on its target (deleted there), in words. The course
   * is archived again. */
  archiveLost?: string;
  /** Carried into the next attempt after archiveLost: the version prepare must not resume from. */
  lostVersion?: number;
  /** Set by prepare: another course workflow (its id) holds this course; nothing else was done. */
  heldBy?: string;
  /** Carried into prepare again: a holder found no longer running, whose hold this run takes over. */
  takeOverFrom?: string;
  targetCategoryId?: number;
  /** Activities of the source course by module type (prepare), checked against the backup and the copy. */
  activitiesByType?: Record<string, number>;
  /** Names of the source category and its parents, root first: "Year 2024-2025 / Semester 1". */
  categoryPath?: string;
  /** When the archive may be deleted (the retention rule of its category), ISO; none: kept for good. */
  retentionUntil?: string;
  /** .mbz path relative to the staging folders (shared-path), or its name in the course's backup area (moodle-ws). */
  backupName?: string;
  mbzBytes?: number;
  mbzSha256?: string;
  /** Bytes the last transport attempt moved, and where it resumed (0: from the start). */
  transferredBytes?: number;
  resumedFrom?: number;
  /** What the .mbz says of its course (its moodle_backup.xml). */
  backupInfo?: {
    originalCourseId: number;
    shortname: string;
    fullname: string;
    moodleRelease: string;
    sectionCount: number;
    activitiesByType: Record<string, number>;
  };
  targetCourseId?: number;
  /** Cold storage: the package's path in the storage, and its sha256. */
  storageLocation?: string;
  packageSha256?: string;
  verified?: boolean;
  /** The course workflow run whose verification passed: the only run that may delete the source. */
  verifiedInRun?: string;
  sourceDeleted?: boolean;
  /** When each phase ran: [startMs, endMs]. */
  phaseTimes?: Partial<Record<PhaseName, [number, number]>>;
}

export interface CourseInput {
  session: string;
  vintage: string;
  courseId: number;
  sourceSiteId: string;
  targetSiteId: string;
  targetCategoryId: number;
  sourceRootCategoryId: number;
  mirrorSubcategories: boolean;
  deleteSource: boolean;
  failureHoldHours: number;
  windows?: CourseWindows;
  /** Set by sessions of this release: the course runs its steps as the phase table's stepRuns say (local steps on
   * the main worker, a phase's steps on one host in one task). Unset, it replays as an earlier release ran it. */
  stepsTogether?: true;
}

/** What every phase activity receives. */
export interface PhaseRequest {
  course: CourseInput;
  facts: CourseFacts;
  /** The phase's next steps on the same host, run in the same task after this one (workflows/phases.ts stepRuns). */
  andThen?: PhaseActivityName[];
  /** On the main worker: the steps done elsewhere since the last entry, and the entry keys of the steps run here;
   * all go into the ledger in the same local activity. */
  ledger?: { before: StepRecord[]; keys: string[] };
}

/** What a step run with `andThen` returns: each step's own facts, in order (the ledger keeps one entry per step). */
export interface StepResult {
  activity: PhaseActivityName;
  facts: CourseFacts;
}

/** A step as the ledger keeps it. */
export interface StepRecord extends StepResult {
  /** The run and the step's rank in it: a retried record is not written twice. */
  entryKey: string;
}

export type CourseStatus = 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** What the operator decided for a failed course. */
export type CourseDecision = 'retry' | 'skip';

export interface CourseFailure {
  phase: string;
  errorType: string;
  message: string;
  /** What an admin recognizes the course by, once prepare has read it: reports name a failed course so. */
  shortname?: string;
}

/** What a course workflow returns: its outcome and what it learned, its phase times as ISO strings (start, end), as
 * the Web UI and `temporal workflow show` print a result. */
export type CourseResult = CourseOutcome & {
  facts: Omit<CourseFacts, 'phaseTimes'> & { phaseTimes: Partial<Record<PhaseName, [string, string]>> };
};

export interface CourseOutcome {
  courseId: number;
  status: CourseStatus;
  failure?: CourseFailure;
  /** Seconds each phase it ran took: what the session's predictor learns from. */
  phaseSeconds?: Partial<Record<PhaseName, number>>;
}

/** A course found by selection; its size and activity count when the session has windows (they predict its duration). */
export interface SelectedCourse {
  courseId: number;
  bytes: number;
  activities: number;
  /** The category its target path is mirrored from, when it is not the session's category. */
  root?: number;
  /** Plans only: what an admin recognizes a course by. */
  shortname?: string;
  categoryId?: number;
}

/** A course of the selected categories that an exclusion pattern leaves out. */
export interface ExcludedCourse {
  courseId: number;
  shortname: string;
  idnumber: string;
  /** The pattern that matched, e.g. 'shortname "*-SANDBOX"'. */
  reason: string;
}

export interface CoursePage {
  courses: SelectedCourse[];
  /** Courses after the cursor, this page included: those already started
   * are behind it, so deleting archived sources does not change this count. */
  remaining: number;
  /** Cursor for the next page: courses with a larger id. */
  nextAfter: number;
  done: boolean;
  /** Courses of the selected categories that exclusion patterns leave out (all pages together). */
  excluded?: number;
  /** Plans only, with the first page: the excluded courses and why. */
  excludedCourses?: ExcludedCourse[];
}

/** What the archiver tells the admins, by webhook (this, as JSON) and email. */
export type Notification =
  | {
      kind: 'session-ended';
      workflowId: string;
      session: string;
      vintage: string;
      /** completed, completed-with-failures, cancelled, stopped-on-error. */
      state: string;
      total: number;
      counts: Record<CourseStatus, number>;
      failed: { courseId: number; phase: string; message: string }[];
      startedAt: string;
      endedAt: string;
      /** Why it stopped, when it stopped on an error. */
      reason?: string;
      /** The catalog ledger's last entry when it ended (added by the notifier): kept here, out of the database's
       * reach, it shows a cut-off or rewritten tail later (`catalog verify --head seq:hash`). */
      ledgerHead?: { seq: number; hash: string };
    }
  | {
      kind: 'course-failed';
      workflowId: string;
      session: string;
      courseId: number;
      shortname?: string;
      phase: string;
      errorType: string;
      message: string;
      decisionDeadline: string;
    };
