// prepare: read the course's metadata, shape and fingerprint; skip it if the
// catalog already holds a verified and cleaned-up archive of the course as it
// is now (or resume at postprocess, to verify that archive again in this run,
// if cleanup never ran); otherwise archive it, as a new version when the
// course changed since its last archive. Find (or create) its target
// category. It never modifies the source course.
import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { archiveIsComplete, archiveLocation, skipReason, type Catalog, type CatalogRow } from './catalog';
import { copyIsThere } from './restore';
import { courseShape } from './course-shape';
import { describeChanges, fingerprintChanges, sourceFingerprint } from './source-fingerprint';
import { withHeartbeats } from './heartbeat';
import type { MoodleCategory, MoodleClient } from './moodle/client';
import { MoodleError } from './moodle/errors';
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
  // Only a mirror under this session's target category is ours: one a session made under another target (or
  // moved elsewhere since) keeps its idnumber, and this session's gets its own (suffixed by its target category).
  const underTarget = (c: MoodleCategory) => c.path.split('/').map(Number).includes(req.targetCategoryId);
  for (const id of below) {
    let idnumber = mirrorCategoryIdnumber(req.sourceSiteId, id);
    let found = await target.categories({ idnumber }, false);
    if (found.length && !underTarget(found[0])) {
      idnumber = `${idnumber}@${req.targetCategoryId}`;
      found = await target.categories({ idnumber }, false);
    }
    if (found.length) {
      parent = found[0].id;
      continue;
    }
    const [src] = await source.categories({ id }, false);
    parent = await createMirror(target, { name: src.name, parent, idnumber }, underTarget);
  }
  return parent;
}

/**
 * Creates a mirror category, or takes the one a course of the same category created meanwhile on another worker:
 * Moodle refuses a create whose idnumber is taken (categoryidnumbertaken). A loser that failed instead would wait out
 * a retry and read its course again.
 */
async function createMirror(
  target: MoodleClient,
  category: { name: string; parent: number; idnumber: string },
  underTarget: (c: MoodleCategory) => boolean,
): Promise<number> {
  try {
    const [created] = await target.createCategories([category]);
    return created.id;
  } catch (err) {
    if (!(err instanceof MoodleError && err.errorcode === 'categoryidnumbertaken')) throw err;
    const [winner] = await target.categories({ idnumber: category.idnumber }, false);
    // Taken by a category elsewhere, or gone again: the activity's retry looks afresh.
    if (!winner || !underTarget(winner)) throw err;
    return winner.id;
  }
}

/** The course's category and its parents, root first. */
async function categoryChain(source: MoodleClient, categoryId: number): Promise<MoodleCategory[]> {
  const [cat] = await source.categories({ id: categoryId }, false);
  const ids = cat.path.split('/').filter(Boolean).map(Number);
  const parents = ids.length > 1 ? await source.categories({ ids: ids.slice(0, -1).join(',') }, false) : [];
  return ids.map((id) => (id === cat.id ? cat : parents.find((p) => p.id === id)!)).filter(Boolean);
}

export function prepareActivities(sites: Sites, catalog: Catalog) {
  /** Mirror lookups in flight in this worker: the courses of one category that a session starts together wait for one
   * lookup (and at most one create) instead of racing on Moodle, which checks that an idnumber is free before it
   * inserts, with no unique index behind: two creates at once can both pass. */
  const mirroring = new Map<string, Promise<number>>();
  const mirrorOnce = (source: MoodleClient, target: MoodleClient, course: PhaseRequest['course'], categoryId: number) => {
    const key = JSON.stringify([
      course.sourceSiteId,
      course.targetSiteId,
      course.targetCategoryId,
      course.sourceRootCategoryId,
      course.mirrorSubcategories,
      categoryId,
    ]);
    let mirrored = mirroring.get(key);
    if (!mirrored) {
      mirrored = mirrorCategory(source, target, course, categoryId).finally(() => mirroring.delete(key));
      mirroring.set(key, mirrored);
    }
    return mirrored;
  };

  return {
    /** Heartbeats on a timer: its phase has a heartbeat timeout, so a lost worker's prepare is retried soon. */
    prepareCourse: (req: PhaseRequest): Promise<CourseFacts> => withHeartbeats(() => prepare(req)),
  };

  /** Why a catalogued archive cannot be resumed although it is of the course as it is: it is gone from its target. */
  async function lost(row: CatalogRow, req: PhaseRequest): Promise<string | undefined> {
    const where = archiveLocation(row);
    if (req.facts.lostVersion === row.version) return `its archive version ${row.version} (${where}) is gone from its target`;
    // A package is checked where its storage is mounted, by verification; a Moodle copy is looked up here.
    if (sites.storage(row.targetSiteId) || !row.targetCourseId) return undefined;
    if (!(await copyIsThere(sites, { targetSiteId: row.targetSiteId, targetCourseId: row.targetCourseId }, row)))
      return `its archive version ${row.version} (${where}) is no longer on ${row.targetSiteId} (deleted there, or replaced)`;
    return undefined;
  }

  async function prepare(req: PhaseRequest): Promise<CourseFacts> {
    const { course } = req;
    // One run per course, whatever the sessions: the course workflow that holds it archives it.
    const me = activityInfo().workflowExecution?.workflowId ?? `unknown/${course.session}/${course.courseId}`;
    const holder = await catalog.acquireLease(course.sourceSiteId, course.courseId, me, req.facts.takeOverFrom);
    if (holder !== me) return { heldBy: holder };
    const source = sites.moodle(course.sourceSiteId);
    const [meta] = await source.coursesByField('id', course.courseId);
    if (!meta)
      throw ApplicationFailure.nonRetryable(`Course ${course.courseId} no longer exists on ${course.sourceSiteId}`, 'CourseNotFound');
    const sections = await source.contents(course.courseId);
    const shape = courseShape(sections);
    const fingerprint = sourceFingerprint(meta, sections);
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
    // A catalog row saves work only for the course as it is now; it never stands for a deletion: the run verifies
    // the archive again and cleanup re-reads the live course first.
    const gone = archived && (await lost(archived, req));
    if (archived && !gone && archived.sourceFingerprint === fingerprint && archived.targetSiteId === course.targetSiteId) {
      const resumed = { ...facts, sourceFingerprint: fingerprint, archiveVersion: archived.version };
      if (archiveIsComplete(archived, course.deleteSource)) return { ...resumed, skipReason: skipReason(archived) };
      // Archived earlier but not cleaned up (stopped after verification, or sources kept then): its copy is verified
      // again (restore keeps it, verification re-reads it).
      return {
        ...resumed,
        resumeAt: 'restore',
        targetCourseId: archived.targetCourseId ?? undefined,
        targetCategoryId: archived.targetCategoryId ?? undefined,
        mbzBytes: Number(archived.mbzBytes),
        mbzSha256: archived.mbzSha256,
        storageLocation: archived.storageLocation ?? undefined,
        packageSha256: archived.packageSha256 ?? undefined,
      };
    }
    const latest = await catalog.find(course.sourceSiteId, course.courseId);
    const version = (latest?.version ?? 0) + 1;
    const fresh = { ...facts, sourceFingerprint: fingerprint, archiveVersion: version };
    if (!archived) return withCategory(fresh);
    const why = gone
      ? gone
      : archived.targetSiteId !== course.targetSiteId
        ? `its archive version ${archived.version} is on ${archived.targetSiteId}, not ${course.targetSiteId}`
        : archived.sourceFingerprint
          ? `${describeChanges(fingerprintChanges(archived.sourceFingerprint, fingerprint))} since its archive version ${archived.version}`
          : `its archive version ${archived.version} does not record the course it was made from (a rebuilt catalog, or an older archiver)`;
    return withCategory({
      ...fresh,
      note: `archived again as version ${version}: ${why}; version ${archived.version} ${gone ? 'stays in the catalog' : 'is kept'}`,
    });

    async function withCategory(f: CourseFacts): Promise<CourseFacts> {
      if (sites.storage(course.targetSiteId)) return f; // a package has no category: its manifest names the source's
      const target = sites.moodle(course.targetSiteId);
      return { ...f, targetCategoryId: await mirrorOnce(source, target, course, meta.categoryid) };
    }
  }
}
