// cleanup: delete the source course (only when the session asks for it, this
// workflow run verified the archive, and the live course is still as it was
// when the archive began), remove the staging files, close
// the catalog entry. The staging removals also serve a cancelled course.
// A moodle-ws backup sits in the source course's backup area: it goes with
// the course when the course is deleted, and is removed by inline PHP (no
// web service can) when the course stays.
import { activityInfo, ApplicationFailure, cancellationSignal } from '@temporalio/activity';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { archiveLocation, type Catalog } from './catalog';
import { audit } from './audit';
import { sourceDeletions } from './metrics';
import { backupFilePrefix } from './backup';
import { withHeartbeats } from './heartbeat';
import { namedFolder, stagingPath } from './safe-path';
import { describeChanges, liveChanges } from './source-fingerprint';
import type { Sites } from './sites';

export function cleanupActivities(sites: Sites, catalog: Catalog) {
  return {
    async deleteSourceCourse({ course, facts }: PhaseRequest): Promise<CourseFacts> {
      let sourceDeleted = false;
      if (course.deleteSource) {
        // The invariant: only the course workflow run whose verification passed may delete.
        const run = activityInfo().workflowExecution?.runId;
        if (facts.verified !== true || !run || facts.verifiedInRun !== run) {
          throw ApplicationFailure.nonRetryable(
            `Refusing to delete ${course.sourceSiteId} course ${course.courseId}: its archive was not verified in this run`,
            'UnverifiedDeletion',
          );
        }
        // Just before deleting, the live course: changed since prepare (a teacher edited it), it is archived again
        // and stays. Gone: a previous attempt deleted it before it could report ("not-found" below).
        const changes = await liveChanges(sites.moodle(course.sourceSiteId), course.courseId, facts.sourceFingerprint);
        if (changes !== 'gone' && changes.length)
          return { sourceDeleted: false, sourceChanged: `${describeChanges(changes)} during its archive (found before deleting it)` };
        await withHeartbeats((onLine) => sites.host(course.sourceSiteId).deleteCourse(course.courseId, onLine, cancellationSignal()));
        sourceDeleted = true;
        sourceDeletions().add(1, { site: course.sourceSiteId });
        // Found gone: an earlier attempt deleted it and stopped before it could say so; said now.
        audit({
          act: 'source-deleted',
          site: course.sourceSiteId,
          deleted: `course ${course.courseId}${changes === 'gone' ? ' (found deleted by an earlier attempt of this run)' : ''}`,
          course: `${course.sourceSiteId} course ${course.courseId}`,
          ...(facts.shortname ? { shortname: facts.shortname } : {}),
          session: course.session,
          archive: archiveLocation({
            targetSiteId: course.targetSiteId,
            targetCourseId: facts.targetCourseId ?? null,
            storageLocation: facts.storageLocation ?? null,
          }),
          ...(facts.mbzSha256 ? { mbzSha256: facts.mbzSha256 } : {}),
          ...(facts.packageSha256 ? { packageSha256: facts.packageSha256 } : {}),
        });
      }
      return { sourceDeleted };
    },

    /** Also removes what an interrupted or repeated backup of this course left in the session's folder. */
    async removeSourceStaging({ course, facts }: PhaseRequest): Promise<CourseFacts> {
      // A moodle-ws backup of a course that stays (not deleted, skipped, failed) would stay in its backup area,
      // seen by its teachers and filling the site's disk session after session.
      if (facts.backupName && !facts.sourceDeleted && sites.route(course.sourceSiteId, course.targetSiteId).driver === 'moodle-ws')
        await sites.host(course.sourceSiteId).removeFromBackupArea(course.courseId, facts.backupName);
      const staging = sites.staging(course.sourceSiteId);
      if (facts.backupName) rmSync(stagingPath(staging, facts.backupName), { force: true });
      const dir = namedFolder(staging, course.session, 'session name');
      const ours = backupFilePrefix(course.courseId);
      if (existsSync(dir))
        for (const f of readdirSync(dir)) if (f.startsWith(ours) && f.endsWith('.mbz')) rmSync(join(dir, f), { force: true });
      return {};
    },

    async removeTargetStaging({ course, facts }: PhaseRequest): Promise<CourseFacts> {
      if (facts.backupName) {
        const file = stagingPath(sites.staging(course.targetSiteId), facts.backupName);
        rmSync(file, { force: true });
        rmSync(`${file}.part`, { force: true });
      }
      return {};
    },

    /** At a session's end, on each of its hosts: its folder in staging, with whatever a skipped or failed course left. */
    async removeSessionStaging({ siteId, session }: { siteId: string; session: string }): Promise<void> {
      rmSync(namedFolder(sites.staging(siteId), session, 'session name'), { recursive: true, force: true });
    },

    async closeCatalogEntry({ course, facts }: PhaseRequest): Promise<CourseFacts> {
      await catalog.markCleaned(course.sourceSiteId, course.courseId, facts.archiveVersion ?? 1, facts.sourceDeleted === true, new Date());
      const me = activityInfo().workflowExecution?.workflowId;
      if (me) await catalog.releaseLease(course.sourceSiteId, course.courseId, me);
      return {};
    },
  };
}
