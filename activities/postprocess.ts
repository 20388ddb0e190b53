// postprocess: hide the archived copy, verify it against the source course
// (sections, activities by type, files and their sizes), and record it in
// the catalog as verified. A mismatch fails the course: nothing is deleted.
import { ApplicationFailure } from '@temporalio/activity';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import type { Catalog } from './catalog';
import { courseShape, shapeDifferences } from './course-shape';
import type { Sites } from './sites';

const at = (ms: number | undefined) => (ms ? new Date(ms) : null);

export function postprocessActivities(sites: Sites, catalog: Catalog) {
  return {
    async postprocessCourse({ course, facts }: PhaseRequest): Promise<CourseFacts> {
      const target = sites.moodle(course.targetSiteId);
      const source = sites.moodle(course.sourceSiteId);
      await target.updateCourses([{ id: facts.targetCourseId!, visible: 0 }]);
      const [sourceShape, copyShape] = await Promise.all([
        source.contents(course.courseId).then(courseShape),
        target.contents(facts.targetCourseId!).then(courseShape),
      ]);
      const diffs = shapeDifferences(sourceShape, copyShape);
      if (diffs.length) {
        throw ApplicationFailure.nonRetryable(`Archived copy ${course.targetSiteId} course ${facts.targetCourseId} differs from the source: ${diffs.join('; ')}`, 'VerificationFailed');
      }
      const t = facts.phaseTimes ?? {};
      await catalog.record({
        sessionId: course.session, vintage: course.vintage, sourceSiteId: course.sourceSiteId, sourceCourseId: course.courseId,
        shortname: facts.shortname!, fullname: facts.fullname!, idnumber: facts.idnumber ?? '',
        sourceCategoryId: facts.sourceCategoryId!, targetSiteId: course.targetSiteId, targetCourseId: facts.targetCourseId!,
        targetCategoryId: facts.targetCategoryId!, storageLocation: null, mbzBytes: BigInt(facts.mbzBytes!),
        mbzSha256: facts.mbzSha256!, verified: true, sourceDeleted: false,
        preparedAt: at(t.prepare?.[1]), backedUpAt: at(t.backup?.[1]), transportedAt: at(t.transport?.[1]),
        restoredAt: at(t.restore?.[1]), verifiedAt: new Date(), cleanedAt: null,
      });
      return { verified: true };
    },
  };
}
