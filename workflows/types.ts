// What flows through the workflows: inputs, per-course facts, results.
// Plain data only: this is what Temporal records in event history, so it
// never holds a URL with a token, a token, or a local secret.

export interface SessionInput {
  /** Session name, unique per run of the archive: the workflow ID is archive-session/<session>. */
  session: string;
  /** Academic vintage label, e.g. "2024-2025". */
  vintage: string;
  sourceSiteId: string;
  sourceCategoryId: number;
  /** Also archive the courses of every subcategory. */
  includeSubcategories: boolean;
  targetSiteId: string;
  targetCategoryId: number;
  /** Recreate the source subcategory tree under the target category. */
  mirrorSubcategories: boolean;
  /** Courses archived at once. */
  concurrency: number;
  /** Delete each source course once its archive is verified. */
  deleteSource: boolean;
  /** Courses fetched per selection page. */
  pageSize?: number;
  /** Continue-as-new after this many course starts in one run (bounds history). */
  continueAsNewAfter?: number;
  /** How long a failed course waits for `retry` or `skip` before it is closed as failed (default 168 h). */
  failureHoldHours?: number;
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
  resumeAt?: string;
  targetCategoryId?: number;
  /** .mbz path relative to the staging folders. */
  backupName?: string;
  mbzBytes?: number;
  mbzSha256?: string;
  targetCourseId?: number;
  verified?: boolean;
  sourceDeleted?: boolean;
  /** Phase name -> [startMs, endMs]. */
  phaseTimes?: Record<string, [number, number]>;
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
}

/** What every phase activity receives. */
export interface PhaseRequest {
  course: CourseInput;
  facts: CourseFacts;
}

export type CourseStatus = 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface CourseFailure {
  phase: string;
  errorType: string;
  message: string;
}

export interface CourseOutcome {
  courseId: number;
  status: CourseStatus;
  failure?: CourseFailure;
}

export interface CoursePage {
  courseIds: number[];
  /** Courses after the cursor, this page included: those already started
   * are behind it, so deleting archived sources does not change this count. */
  remaining: number;
  /** Cursor for the next page: courses with a larger id. */
  nextAfter: number;
  done: boolean;
}
