// Failure type names: what activities throw, what workflows decide on (which
// are not retried) and what operators read in the Web UI and reports.

export const FailureType = {
  /** The session's category, a single course or a vintage's category is not on the source site. */
  CategoryNotFound: 'CategoryNotFound',
  CourseNotFound: 'CourseNotFound',
  /** The session's target category is not on the target site. */
  TargetCategoryNotFound: 'TargetCategoryNotFound',
  /** Source and target are one Moodle and the target category is inside what the session selects. */
  TargetInsideSource: 'TargetInsideSource',
  /** Two site ids of the config answer as the same Moodle. */
  SameMoodle: 'SameMoodle',
  /** A running session that began earlier selects some of the same courses. */
  SessionOverlaps: 'SessionOverlaps',
  /** A course changed during each of its last archives: it stays on the source. */
  SourceKeepsChanging: 'SourceKeepsChanging',
  VintageCategoryNotFound: 'VintageCategoryNotFound',
  VintageCategoryAmbiguous: 'VintageCategoryAmbiguous',
  NoVintageYet: 'NoVintageYet',
  UnknownSite: 'UnknownSite',
  /** The archive does not match its source: nothing is deleted. */
  VerificationFailed: 'VerificationFailed',
  UnverifiedArchive: 'UnverifiedArchive',
  UnverifiedDeletion: 'UnverifiedDeletion',
  ChecksumMismatch: 'ChecksumMismatch',
  BackupNotFound: 'BackupNotFound',
  StagingNotShared: 'StagingNotShared',
  NotInCatalog: 'NotInCatalog',
  RetentionNotPassed: 'RetentionNotPassed',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** A Moodle error's failure type: `Moodle:<kind>` (activities/moodle/errors.ts lists the kinds). */
export const moodleFailureType = (kind: string) => `Moodle:${kind}`;

/** What a session's own activities fail with that no retry will change. */
export const SESSION_NON_RETRYABLE: FailureType[] = [
  FailureType.CategoryNotFound,
  FailureType.CourseNotFound,
  FailureType.TargetCategoryNotFound,
  FailureType.TargetInsideSource,
  FailureType.SameMoodle,
  FailureType.SessionOverlaps,
  FailureType.VintageCategoryNotFound,
  FailureType.VintageCategoryAmbiguous,
];
