// prepare: read the course's metadata and shape, skip it if the catalog
// already holds a verified and cleaned-up archive (or resume at postprocess
// if cleanup never ran), and find (or create) its target category. It never
// modifies the source course.
import { ApplicationFailure } from '@temporalio/activity';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { archiveIsComplete, skipReason, type Catalog } from './catalog';
import { courseShape } from './course-shape';
import { withHeartbeats } from './heartbeat';
import type { MoodleCategory, MoodleClient } from './moodle/client';
import { retentionUntil } from './retention';
import type { Sites } from './sites';

/** The idnumber that marks a target category as the mirror of a source category. */
export const mirrorCategoryIdnumber = (siteId: string, categoryId: number) => `archive:${siteId}:cat:${categoryId}`;

/** Mirrors the source category path below the session's root into the target, find-before-create. */
async function mirrorCategory(
  source: MoodleClient,
  target: MoodleClient,
  req: PhaseRequest['course'],
  categoryId: number,
): Promise<number> {
  if (!req.mirrorSubcategories || categoryId === req.sourceRootCategoryId) return req.targetCategoryId;
  const [cat] = await source.categories({ id: categoryId }, false);
  const chain = cat.path.split('/').filter(Boolean).map(Number);
  const below = chain.slice(chain.indexOf(req.sourceRootCategoryId) + 1);
  let parent = req.targetCategoryId;
  for (const id of below) {
    const idnumber = mirrorCategoryIdnumber(req.sourceSiteId, id);
    const found = await target.categories({ idnumber }, false);
    if (found.length) {
      parent = found[0].id;
      continue;
    }
    const [src] = await source.categories({ id }, false);
    // Two courses of one category may race here; the loser gets categoryidnumbertaken and its retry finds the winner's.
    const [created] = await target.createCategories([{ name: src.name, parent, idnumber }]);
    parent = created.id;
  }
  return parent;
}

/** The course's category and its parents, root first. */
async function categoryChain(source: MoodleClient, categoryId: number): Promise<MoodleCategory[]> {
  const [cat] = await source.categories({ id: categoryId }, false);
  const ids = cat.path.split('/').filter(Boolean).map(Number);
  const parents = ids.length > 1 ? await source.categories({ ids: ids.slice(0, -1).join(',') }, false) : [];
  return ids.map((id) => (id === cat.id ? cat : parents.find((p) => p.id === id)!)).filter(Boolean);
}

export function prepareActivities(sites: Sites, catalog: Catalog) {
  return {
    /** Heartbeats on a timer: its phase has a heartbeat timeout, so a lost worker's prepare is retried soon. */
    prepareCourse: (req: PhaseRequest): Promise<CourseFacts> => withHeartbeats(() => prepare(req)),
  };

  async function prepare({ course }: PhaseRequest): Promise<CourseFacts> {
    const source = sites.moodle(course.sourceSiteId);
    const [meta] = await source.coursesByField('id', course.courseId);
    if (!meta)
      throw ApplicationFailure.nonRetryable(`Course ${course.courseId} no longer exists on ${course.sourceSiteId}`, 'CourseNotFound');
    const shape = courseShape(await source.contents(course.courseId));
    const chain = await categoryChain(source, meta.categoryid);
    const until = retentionUntil(
      sites.config.retention,
      course.sourceSiteId,
      chain.map((c) => ({ id: c.id, idnumber: c.idnumber ?? '' })),
      new Date(),
    );
    const facts: CourseFacts = {
      shortname: meta.shortname,
      fullname: meta.fullname,
      idnumber: meta.idnumber ?? '',
      sourceCategoryId: meta.categoryid,
      declaredBytes: shape.declaredBytes,
      sectionCount: shape.sectionCount,
      activityCount: shape.activityCount,
      fileCount: shape.fileCount,
      activitiesByType: shape.activitiesByType,
      categoryPath: chain.map((c) => c.name).join(' / '),
      ...(until ? { retentionUntil: until.toISOString() } : {}),
    };
    const archived = await catalog.findVerified(course.sourceSiteId, course.courseId);
    if (archived && archiveIsComplete(archived, course.deleteSource)) return { ...facts, skipReason: skipReason(archived) };
    if (archived && archived.targetSiteId === course.targetSiteId) {
      // Archived earlier but not cleaned up (stopped after verification, or sources kept then):
      // verify the copy again in this run, then clean up.
      return {
        ...facts,
        resumeAt: 'postprocess',
        targetCourseId: archived.targetCourseId ?? undefined,
        targetCategoryId: archived.targetCategoryId ?? undefined,
        mbzBytes: Number(archived.mbzBytes),
        mbzSha256: archived.mbzSha256,
        storageLocation: archived.storageLocation ?? undefined,
        packageSha256: archived.packageSha256 ?? undefined,
      };
    }
    if (sites.storage(course.targetSiteId)) return facts; // a package has no category: its manifest names the source's
    const target = sites.moodle(course.targetSiteId);
    const targetCategoryId = await mirrorCategory(source, target, course, meta.categoryid);
    return { ...facts, targetCategoryId };
  }
}
