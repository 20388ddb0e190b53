// checkSetup: the doctor's workflow. It finds the largest course of the
// category to archive (through selection, page by page), then runs each
// site's checks on that site's own host queue, so the admin CLI and the
// staging folder are checked where sessions will use them. A site whose
// queue has no worker is reported as such, not waited for.
import { ActivityFailure, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SetupCheck } from '../activities/doctor';
import { siteQueue } from '../contract';

export interface SetupRequest {
  siteIds: string[];
  /** The category a session would archive: its largest course sizes the staging check. */
  selection?: { siteId: string; categoryId: number };
  /** How long a site's worker may take to pick its check up. */
  workerWaitSeconds: number;
}

export interface SiteSetupReport {
  siteId: string;
  checks: SetupCheck[];
}

export interface SetupReport {
  largestCourse?: { courseId: number; bytes: number };
  sites: SiteSetupReport[];
}

const { selectCourses } = proxyActivities<Activities>({ startToCloseTimeout: '10m', retry: { maximumAttempts: 3 } });

export async function checkSetup(req: SetupRequest): Promise<SetupReport> {
  let largestCourse: SetupReport['largestCourse'];
  if (req.selection) {
    for (let after = 0, done = false; !done;) {
      const page = await selectCourses({
        sourceSiteId: req.selection.siteId,
        categoryId: req.selection.categoryId,
        includeSubcategories: true,
        afterCourseId: after,
        pageSize: 200,
        withSizes: true,
      });
      for (const c of page.courses)
        if (!largestCourse || c.bytes > largestCourse.bytes) largestCourse = { courseId: c.courseId, bytes: c.bytes };
      [after, done] = [page.nextAfter, page.done];
    }
  }
  const sites = await Promise.all(
    req.siteIds.map(async (siteId): Promise<SiteSetupReport> => {
      const { checkSiteSetup } = proxyActivities<Activities>({
        taskQueue: siteQueue(siteId),
        scheduleToStartTimeout: `${req.workerWaitSeconds}s`,
        startToCloseTimeout: '5m',
        retry: { maximumAttempts: 1 },
      });
      try {
        return { siteId, checks: await checkSiteSetup({ siteId, largestCourseBytes: largestCourse?.bytes ?? 0 }) };
      } catch (err) {
        const noWorker = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;
        return {
          siteId,
          checks: [
            {
              check: 'worker',
              ok: false,
              detail: noWorker
                ? `no worker took the check from ${siteQueue(siteId)} within ${req.workerWaitSeconds} s`
                : (err as Error).message,
              fix: `start a worker on that Moodle host for its queue: npm run worker -- --queues ${siteQueue(siteId)}`,
            },
          ],
        };
      }
    }),
  );
  return { largestCourse, sites };
}
