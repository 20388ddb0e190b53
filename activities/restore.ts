// restore: into the target. A Moodle target: admin/cli/restore_backup.php on
// its host, into the mapped category. Find before create: the restored course
// is marked at once with an idnumber naming its source, and a retry looks for
// that mark (and, after a crash between restore and mark, for the unmarked
// copy) instead of restoring a second time. A cold storage: the course is
// sealed into a package (storage/).
import { activityInfo, cancellationSignal } from '@temporalio/activity';
import { join } from 'node:path';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { withHeartbeats } from './heartbeat';
import type { Sites } from './sites';
import { sealCourse } from './storage';

/** The idnumber of an archived copy: Moodle clears idnumber on a cross-site restore, so we set our own. */
export const archiveIdnumber = (siteId: string, courseId: number) => `archive:${siteId}:${courseId}`;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function restoreActivities(sites: Sites) {
  return {
    async restoreCourse(req: PhaseRequest): Promise<CourseFacts> {
      const { course, facts } = req;
      const storage = sites.storage(course.targetSiteId);
      if (storage) return sealCourse(sites, storage, req);
      const target = sites.moodle(course.targetSiteId);
      const mark = archiveIdnumber(course.sourceSiteId, course.courseId);
      const [marked] = await target.coursesByField('idnumber', mark);
      if (marked) return { targetCourseId: marked.id };
      if (activityInfo().attempt > 1) {
        // Restore renames on a clash (X_1, "X copy 1"), so an unmarked copy of ours matches these.
        const short = new RegExp(`^${escapeRe(facts.shortname!)}(_\\d+)?$`);
        const full = new RegExp(`^${escapeRe(facts.fullname!)}( copy \\d+)?$`);
        const orphans = (await target.coursesByField('category', facts.targetCategoryId!)).filter(
          (c) => !c.idnumber && short.test(c.shortname) && full.test(c.fullname),
        );
        if (orphans.length === 1) {
          await target.updateCourses([{ id: orphans[0].id, idnumber: mark }]);
          return { targetCourseId: orphans[0].id };
        }
      }
      const file = join(sites.staging(course.targetSiteId), facts.backupName!);
      const id = await withHeartbeats((onLine) =>
        sites.host(course.targetSiteId).restore(file, facts.targetCategoryId!, onLine, cancellationSignal()),
      );
      await target.updateCourses([{ id, idnumber: mark }]);
      return { targetCourseId: id };
    },
  };
}
