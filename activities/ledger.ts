// Every phase step that completes appends an entry to the catalog's ledger:
// what happened, when, and the checksums, sizes and ids it established.
// Declared once for every step of the phase table.
import { activityInfo } from '@temporalio/activity';
import { PHASES } from '../workflows/phases';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import type { Catalog } from './catalog';

/** The facts worth keeping for good; the rest (times, counts) is in Temporal's history. */
const LEDGER_FACTS = [
  'backupName', 'mbzBytes', 'mbzSha256', 'transferredBytes', 'resumedFrom', 'targetCourseId', 'targetCategoryId',
  'storageLocation', 'packageSha256', 'verified', 'sourceDeleted', 'retentionUntil', 'skipReason', 'resumeAt',
] as const satisfies readonly (keyof CourseFacts)[];

const STEP_ACTIVITIES = new Set<string>(PHASES.flatMap((p) => p.steps.map((s) => s.activity)));

export function withLedger<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, catalog: Catalog): T {
  return Object.fromEntries(Object.entries(activities).map(([name, fn]) => {
    if (!STEP_ACTIVITIES.has(name)) return [name, fn];
    return [name, async (req: PhaseRequest) => {
      const out = (await (fn as unknown as (r: PhaseRequest) => Promise<CourseFacts>)(req));
      const info = activityInfo();
      const detail = Object.fromEntries(LEDGER_FACTS.filter((k) => out[k] !== undefined).map((k) => [k, out[k]]));
      await catalog.appendLedger({
        entryKey: `${info.workflowExecution?.runId}/${info.activityId}`, event: name, sessionId: req.course.session,
        sourceSiteId: req.course.sourceSiteId, sourceCourseId: req.course.courseId, detail: { targetSiteId: req.course.targetSiteId, ...detail },
      });
      return out;
    }];
  })) as T;
}
