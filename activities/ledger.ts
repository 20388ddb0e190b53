// Every phase step that completes appends an entry to the catalog's ledger:
// what happened, when, and the checksums, sizes and ids it established. The
// course workflow hands the steps done on other hosts to its next local
// activity on the main worker (the one that reaches the catalog), which writes
// them before its own.
import type { CourseFacts, CourseInput, StepRecord } from '../workflows/types';
import type { Catalog } from './catalog';

/** The facts worth keeping for good; the rest (times, counts) is in Temporal's history. */
const LEDGER_FACTS = [
  'backupName',
  'mbzBytes',
  'mbzSha256',
  'transferredBytes',
  'resumedFrom',
  'targetCourseId',
  'targetCategoryId',
  'storageLocation',
  'packageSha256',
  'verified',
  'sourceDeleted',
  'retentionUntil',
  'skipReason',
  'resumeAt',
  'archiveVersion',
  'sourceFingerprint',
  'sourceChanged',
  'archiveLost',
  'note',
] as const satisfies readonly (keyof CourseFacts)[];

export function ledgerActivities(catalog: Catalog) {
  return {
    /** The steps in the order they ran. */
    async recordSteps({ course, steps }: { course: CourseInput; steps: StepRecord[] }): Promise<void> {
      for (const { activity, facts, entryKey } of steps) {
        const detail = Object.fromEntries(LEDGER_FACTS.filter((k) => facts[k] !== undefined).map((k) => [k, facts[k]]));
        await catalog.appendLedger({
          entryKey,
          event: activity,
          sessionId: course.session,
          sourceSiteId: course.sourceSiteId,
          sourceCourseId: course.courseId,
          detail: { targetSiteId: course.targetSiteId, ...detail },
        });
      }
    },
  };
}
