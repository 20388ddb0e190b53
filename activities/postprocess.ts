// postprocess: verify the archive on the target host, then record it in the
// catalog as verified, on the main worker (the one that reaches the catalog). Verification before deletion, the invariant: the
// .mbz's own description (moodle_backup.xml) agrees with the source course,
// and the copy matches it: for a Moodle target, the restored course (hidden
// here) has the source's sections, activities by type, files and their
// sizes; for a cold storage, the package re-reads clean. A mismatch fails the
// course: nothing is deleted. What passed is stamped with this workflow
// run's id: cleanup deletes a source only for the run that verified it. A
// source changed since prepare is not verified: the course is archived again.
import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { catalogTimes, type Catalog } from './catalog';
import { courseShape, shapeDifferences, type CourseShape } from './course-shape';
import { describeChanges, liveChanges } from './source-fingerprint';
import { copyIsThere, discardUnverifiedCopy } from './restore';
import { displayedName } from './moodle/text';
import type { Sites } from './sites';
import { storeOf, verifySealed } from './storage';

/** Where the backup's own description of its course differs from the source course, in words. */
export function backupDifferences(course: PhaseRequest['course'], facts: CourseFacts): string[] {
  const b = facts.backupInfo;
  if (!b) return []; // a resumed run: the backup was checked by the run that made it
  const diffs: string[] = [];
  if (b.originalCourseId !== course.courseId) diffs.push(`the backup is of course ${b.originalCourseId}, not ${course.courseId}`);
  // The backup holds names raw; the source's came through the web services (moodle/text.ts).
  if (displayedName(b.shortname) !== facts.shortname) diffs.push(`backup shortname "${b.shortname}", source "${facts.shortname}"`);
  if (displayedName(b.fullname) !== facts.fullname) diffs.push(`backup full name "${b.fullname}", source "${facts.fullname}"`);
  if (facts.sectionCount !== undefined && b.sectionCount !== facts.sectionCount)
    diffs.push(`backup sections ${b.sectionCount}, source ${facts.sectionCount}`);
  const src = facts.activitiesByType ?? {};
  for (const t of new Set([...Object.keys(src), ...Object.keys(b.activitiesByType)])) {
    if ((src[t] ?? 0) !== (b.activitiesByType[t] ?? 0))
      diffs.push(`backup ${t} activities ${b.activitiesByType[t] ?? 0}, source ${src[t] ?? 0}`);
  }
  return diffs;
}

/** Whether the archive a resumed run verifies is still on its target; why not, in words. */
async function archiveGone(sites: Sites, { course, facts }: PhaseRequest): Promise<string | undefined> {
  const storage = sites.storage(course.targetSiteId);
  const where = `${course.targetSiteId}:${facts.storageLocation ?? `course ${facts.targetCourseId}`}`;
  if (storage) return storeOf(storage).exists(facts.storageLocation!) ? undefined : `its archive (${where}) is gone from the storage`;
  const there = await copyIsThere(
    sites,
    { targetSiteId: course.targetSiteId, targetCourseId: facts.targetCourseId! },
    { sourceSiteId: course.sourceSiteId, sourceCourseId: course.courseId },
  );
  return there ? undefined : `its archive (${where}) is no longer on ${course.targetSiteId}`;
}

export function postprocessActivities(sites: Sites, catalog: Catalog) {
  return {
    /** On the target host. */
    async verifyArchive(req: PhaseRequest): Promise<CourseFacts> {
      const { course, facts } = req;
      // The archive is of the course as prepare read it: if a teacher changed it since, the course is archived
      // again. A course deleted meanwhile (by someone else) still has its archive verified and kept.
      const changes = await liveChanges(sites.moodle(course.sourceSiteId), course.courseId, facts.sourceFingerprint);
      if (changes !== 'gone' && changes.length) {
        await discardUnverifiedCopy(sites, req);
        return { sourceChanged: `${describeChanges(changes)} during its archive (found at verification)` };
      }
      // A resumed archive that is gone from its target (deleted there by someone): made again, as a new version.
      const lost = facts.resumeAt && (await archiveGone(sites, req));
      if (lost) return { archiveLost: lost };
      const fromBackup = backupDifferences(course, facts);
      if (fromBackup.length) {
        throw ApplicationFailure.nonRetryable(
          `The backup of ${course.sourceSiteId} course ${course.courseId} does not describe the source: ${fromBackup.join('; ')}`,
          'VerificationFailed',
        );
      }
      const storage = sites.storage(course.targetSiteId);
      if (storage) {
        await verifySealed(storage, req);
      } else {
        const target = sites.moodle(course.targetSiteId);
        await target.updateCourses([{ id: facts.targetCourseId!, visible: 0 }]);
        // The source as prepare read it (the live one is still so): sections, activities by type, files and their sizes.
        const sourceShape: CourseShape = {
          sectionCount: facts.sectionCount!,
          activityCount: facts.activityCount!,
          activitiesByType: facts.activitiesByType ?? {},
          fileCount: facts.fileCount!,
          declaredBytes: facts.declaredBytes!,
        };
        const diffs = shapeDifferences(sourceShape, courseShape(await target.contents(facts.targetCourseId!)));
        if (diffs.length) {
          throw ApplicationFailure.nonRetryable(
            `Archived copy ${course.targetSiteId} course ${facts.targetCourseId} differs from the source: ${diffs.join('; ')}`,
            'VerificationFailed',
          );
        }
      }
      // The checksums go with the verification into the ledger: `catalog verify` compares the rows with them.
      return {
        verified: true,
        verifiedInRun: activityInfo().workflowExecution?.runId,
        archiveVersion: facts.archiveVersion,
        mbzSha256: facts.mbzSha256,
        packageSha256: facts.packageSha256,
      };
    },

    /** On the main worker: the catalog row of a verified archive. */
    async recordArchive({ course, facts }: PhaseRequest): Promise<CourseFacts> {
      if (facts.verified !== true)
        throw ApplicationFailure.nonRetryable(
          `${course.sourceSiteId} course ${course.courseId} was not verified: nothing to record`,
          'UnverifiedArchive',
        );
      await catalog.record({
        sessionId: course.session,
        vintage: course.vintage,
        sourceSiteId: course.sourceSiteId,
        sourceCourseId: course.courseId,
        shortname: facts.shortname!,
        fullname: facts.fullname!,
        idnumber: facts.idnumber ?? '',
        sourceCategoryId: facts.sourceCategoryId!,
        categoryPath: facts.categoryPath ?? '',
        targetSiteId: course.targetSiteId,
        targetCourseId: facts.targetCourseId ?? null,
        targetCategoryId: facts.targetCategoryId ?? null,
        storageLocation: facts.storageLocation ?? null,
        packageSha256: facts.packageSha256 ?? null,
        version: facts.archiveVersion ?? 1,
        sourceFingerprint: facts.sourceFingerprint ?? null,
        mbzBytes: BigInt(facts.mbzBytes!),
        mbzSha256: facts.mbzSha256!,
        verified: true,
        sourceDeleted: false,
        ...catalogTimes(facts.phaseTimes, new Date()),
        retentionUntil: facts.retentionUntil ? new Date(facts.retentionUntil) : null,
        expiredAt: null,
      });
      // What was written, into the ledger too: `catalog verify` compares the row with it.
      return {
        verified: true,
        archiveVersion: facts.archiveVersion ?? 1,
        targetCourseId: facts.targetCourseId,
        storageLocation: facts.storageLocation,
        retentionUntil: facts.retentionUntil,
        mbzSha256: facts.mbzSha256,
        packageSha256: facts.packageSha256,
      };
    },
  };
}
