// restore: into the target. A Moodle target: admin/cli/restore_backup.php on
// its host, into the mapped category. Find before create: the restored course
// is marked at once with an idnumber naming its source, and a retry looks for
// that mark (and, after a crash between restore and mark, for the unmarked
// copy) instead of restoring a second time. A cold storage: the course is
// sealed into a package (storage/).
import { activityInfo, ApplicationFailure, cancellationSignal, log } from '@temporalio/activity';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { moodleFailureType } from '../contract';
import { withHeartbeats } from './heartbeat';
import type { MoodleClient } from './moodle/client';
import { MoodleError } from './moodle/errors';
import type { MoodleHost } from './moodle/host';
import type { Sites } from './sites';
import { stagingPath } from './safe-path';
import { sealCourse, storeOf } from './storage';

/** The idnumber of an archived copy (Moodle clears idnumber on a cross-site restore, so we set our own): its source
 * course and the backup it was restored from, so that a retry never takes a copy of another backup (an earlier
 * version of a course edited since) for this one. */
export const archiveIdnumber = (siteId: string, courseId: number, mbzSha256: string) =>
  `archive:${siteId}:${courseId}:${mbzSha256.slice(0, 12)}`;

const ARCHIVE_MARK = /^archive:([a-z][a-z0-9_-]*):(\d+)(?::([0-9a-f]{12}))?(?:@\d+)?$/;

/** The source course an archive mark names, when an idnumber is one, and the backup it names (absent in the marks of
 * older archivers). */
export function archiveMarkSource(idnumber: string | null | undefined): { siteId: string; courseId: number; backup?: string } | undefined {
  const m = ARCHIVE_MARK.exec(idnumber ?? '');
  return m ? { siteId: m[1], courseId: Number(m[2]), ...(m[3] ? { backup: m[3] } : {}) } : undefined;
}

export const marksArchiveOf = (idnumber: string | null | undefined, siteId: string, courseId: number) => {
  const source = archiveMarkSource(idnumber);
  return source?.siteId === siteId && source.courseId === courseId;
};

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The empty course restore_backup.php makes first ("Course restoration in progress"), shortname restoring, restoring_1… */
const PLACEHOLDER = /^restoring(_\d+)?$/;

/** Deletes the placeholders made in `category` since `since` (unix seconds): this worker's failed restore's. */
async function removePlaceholders(target: MoodleClient, host: MoodleHost, category: number, since: number): Promise<void> {
  const left = (await target.coursesByField('category', category)).filter(
    (c) => PLACEHOLDER.test(c.shortname) && (c.timecreated ?? 0) >= since,
  );
  for (const p of left) await host.deleteCourse(p.id);
}

/**
 * At most `restoresAtOnce` restores at a time on each target site, from this worker (1 by default). Two restores
 * at once collide on the users their courses share (nearly all courses share students): a unique-key error, and
 * a placeholder course left.
 */
const restoring = new Map<string, { running: number; waiting: (() => void)[] }>();
const restoresRunning = (siteId: string) => restoring.get(siteId)?.running ?? 0;
/** Per target site: where failed restores left placeholders while other restores ran (a category, made since). */
const placeholdersLeft = new Map<string, { category: number; since: number }[]>();
async function limitRestores<T>(siteId: string, atOnce: number, restore: () => Promise<T>): Promise<T> {
  let slot = restoring.get(siteId);
  if (!slot) restoring.set(siteId, (slot = { running: 0, waiting: [] }));
  if (slot.running >= atOnce) await new Promise<void>((go) => slot.waiting.push(go));
  else slot.running++;
  try {
    return await restore();
  } finally {
    const next = slot.waiting.shift();
    if (next)
      next(); // the slot passes on
    else slot.running--;
  }
}

/** Said once, not retried: only an edit of the source course lets restore take it. */
function markupFailure(course: PhaseRequest['course'], facts: CourseFacts): ApplicationFailure {
  const b = facts.backupInfo;
  const tagged = (name: string) => /<[^>]*>/.test(name);
  const fields = b ? [tagged(b.fullname) && 'full name', tagged(b.shortname) && 'short name'].filter(Boolean) : [];
  const field = fields.length ? fields.join(' and ') : 'full name or short name';
  return ApplicationFailure.nonRetryable(
    `${course.sourceSiteId} course ${course.courseId} (${facts.shortname}): its ${field} holds HTML markup` +
      `${b ? ` ("${b.fullname}")` : ''}, which Moodle's restore refuses (setting_invalid_text). ` +
      `Remove the markup from the ${field} in the source course's settings, then retry the course.`,
    moodleFailureType('invalid-course-data'),
  );
}

/**
 * Removes the copy this run restored (or sealed) from a backup that no longer describes the source (a teacher edited
 * the course meanwhile), so that the target holds only archives the catalog knows. Only that copy: a resumed run's
 * is a catalogued archive, and a Moodle copy goes only if its mark names this very backup.
 */
/** Whether a Moodle copy is still on its target, marked as the archive of its source course. */
export async function copyIsThere(
  sites: Sites,
  where: { targetSiteId: string; targetCourseId: number },
  of: { sourceSiteId: string; sourceCourseId: number },
): Promise<boolean> {
  const [copy] = await sites.moodle(where.targetSiteId).coursesByField('id', where.targetCourseId);
  return Boolean(copy && marksArchiveOf(copy.idnumber, of.sourceSiteId, of.sourceCourseId));
}

export async function discardUnverifiedCopy(sites: Sites, { course, facts }: PhaseRequest): Promise<void> {
  if (facts.resumeAt) return;
  const storage = sites.storage(course.targetSiteId);
  if (storage) {
    if (facts.storageLocation) storeOf(storage).remove(facts.storageLocation);
    return;
  }
  if (!facts.targetCourseId || !facts.mbzSha256) return;
  const [copy] = await sites.moodle(course.targetSiteId).coursesByField('id', facts.targetCourseId);
  const mark = archiveMarkSource(copy?.idnumber);
  if (copy && marksArchiveOf(copy.idnumber, course.sourceSiteId, course.courseId) && mark?.backup === facts.mbzSha256.slice(0, 12))
    await withHeartbeats((onLine) => sites.host(course.targetSiteId).deleteCourse(copy.id, onLine));
}

export function restoreActivities(sites: Sites) {
  return {
    async restoreCourse(req: PhaseRequest): Promise<CourseFacts> {
      const { course, facts } = req;
      // Resumed from the catalog: the copy an earlier run made and recorded is verified again, not made again.
      if (facts.resumeAt) return {};
      const storage = sites.storage(course.targetSiteId);
      if (storage) return sealCourse(sites, storage, req);
      const target = sites.moodle(course.targetSiteId);
      const category = facts.targetCategoryId!;
      // Only where this session restores: a copy another session made in another category is not ours. Idnumbers
      // are unique on a site, so a second copy's mark names its category.
      const plain = archiveIdnumber(course.sourceSiteId, course.courseId, facts.mbzSha256!);
      const [holder] = await target.coursesByField('idnumber', plain);
      if (holder?.categoryid === category) return { targetCourseId: holder.id };
      const mark = holder ? `${plain}@${category}` : plain;
      const [marked] = holder ? await target.coursesByField('idnumber', mark) : [];
      if (marked) return { targetCourseId: marked.id };
      if (activityInfo().attempt > 1) {
        // Restore renames on a clash (X_1, "X copy 1"), so an unmarked copy of ours matches these.
        const short = new RegExp(`^${escapeRe(facts.shortname!)}(_\\d+)?$`);
        const full = new RegExp(`^${escapeRe(facts.fullname!)}( copy \\d+)?$`);
        const orphans = (await target.coursesByField('category', category)).filter(
          (c) => !c.idnumber && short.test(c.shortname) && full.test(c.fullname),
        );
        if (orphans.length === 1) {
          await target.updateCourses([{ id: orphans[0].id, idnumber: mark, visible: 0 }]);
          return { targetCourseId: orphans[0].id };
        }
      }
      const file = stagingPath(sites.staging(course.targetSiteId), facts.backupName!);
      const host = sites.host(course.targetSiteId);
      const id = await withHeartbeats((onLine) =>
        limitRestores(course.targetSiteId, sites.settings(course.targetSiteId).restoresAtOnce, async () => {
          const started = Math.floor(Date.now() / 1000) - 1;
          // restore_backup.php made its "Course restoration in progress" course first and leaves it on failure.
          // Which one is ours is known only while no other restore of this worker runs into the site: one left
          // meanwhile is noted, and removed by the next restore that ends alone there.
          try {
            return await host.restore(file, category, onLine, cancellationSignal());
          } catch (e) {
            placeholdersLeft.set(course.targetSiteId, [...(placeholdersLeft.get(course.targetSiteId) ?? []), { category, since: started }]);
            if (restoresRunning(course.targetSiteId) > 1)
              log.warn(`a failed restore left a placeholder course in category ${category}: removed once no other restore runs there`);
            throw e instanceof MoodleError && e.kind === 'invalid-course-data' ? markupFailure(course, facts) : e;
          } finally {
            if (restoresRunning(course.targetSiteId) === 1) {
              const left = placeholdersLeft.get(course.targetSiteId) ?? [];
              placeholdersLeft.delete(course.targetSiteId);
              for (const p of left)
                await removePlaceholders(target, host, p.category, p.since).catch((cleanup: Error) =>
                  log.warn(`could not remove the placeholder course a failed restore left in category ${p.category}: ${cleanup.message}`),
                );
            }
          }
        }),
      );
      // Marked and hidden at once: restore keeps the source's visibility, and a copy that later fails
      // verification must not sit visible, with its enrolments, on the archive site.
      await target.updateCourses([{ id, idnumber: mark, visible: 0 }]);
      return { targetCourseId: id };
    },
  };
}
