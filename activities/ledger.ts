// Every phase step that completes appends an entry to the catalog's ledger:
// what happened, when, and the checksums, sizes and ids it established. The
// course workflow records the steps of each phase by one local activity, on
// the main worker (the one that reaches the catalog), whatever host they ran on.
import type { PhaseActivityName } from '../workflows/phases';
import type { CourseFacts, CourseInput } from '../workflows/types';
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

export interface StepRecord {
  activity: PhaseActivityName;
  /** What the step returned. */
  facts: CourseFacts;
  /** The run and the step's rank in it: a retried record is not written twice. */
  entryKey: string;
}

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
