// Course selection: the courses of the session's categories (and their
// subcategories), plus single courses, less the excluded ones; one page at a
// time, ordered by id so a cursor resumes exactly where it stopped.
import { activityInfo, ApplicationFailure, heartbeat } from '@temporalio/activity';
import pLimit from 'p-limit';
import type { CoursePage, CourseSelection, ExcludedCourse, SelectedCourse } from '../workflows/types';
import { courseShape } from './course-shape';
import type { MoodleCourse } from './moodle/client';
import { MoodleError } from './moodle/errors';
import { archiveMarkSource } from './restore';
import type { Sites } from './sites';

export interface SelectRequest {
  sourceSiteId: string;
  categoryId: number;
  includeSubcategories: boolean;
  selection?: CourseSelection;
  afterCourseId: number;
  pageSize: number;
  /** Read each course's size and activity count (sessions with windows predict durations from them). */
  withSizes: boolean;
  /** Plans: each course's shortname and category, and the excluded courses with the first page. */
  describe?: boolean;
}

/** A course of the list: what exclusions and plans need, and the root it is mirrored from. */
interface ListedCourse {
  courseId: number;
  root: number;
  shortname: string;
  categoryId: number;
}

interface CourseList {
  at: number;
  courses: ListedCourse[];
  excluded: ExcludedCourse[];
}

/** How long a selection's course list is reused between pages of one session (or plan): Moodle has no paging
 * here, so without it a 10,000-course vintage would be read in full for each of its 100 pages. Never across
 * sessions: a new session reads what is there now. */
const LIST_TTL_MS = 5 * 60_000;

/** Web-service reads of one selection at once: a vintage of many subcategories (or a page of sizes) is not read one
 * call after another, and production sees a few reads at a time, never a burst. */
const READS_AT_ONCE = 4;

/** `*` and `?` wildcards, whole value, any case. Course names are not paths, so no glob library's `/` rules. */
export function wildcard(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

/** Why a course is left out, or null. */
export function exclusionReason(course: { shortname: string; idnumber?: string | null }, selection: CourseSelection = {}): string | null {
  for (const p of selection.excludeShortnames ?? []) if (wildcard(p).test(course.shortname)) return `shortname matches "${p}"`;
  for (const p of selection.excludeIdnumbers ?? []) if (wildcard(p).test(course.idnumber ?? '')) return `idnumber matches "${p}"`;
  return null;
}

/** An archived copy (it carries the archiver's mark) is never a source, whatever the selection says. */
function archiveReason(course: { idnumber?: string | null }): string | null {
  const of = archiveMarkSource(course.idnumber);
  return of ? `an archive (of ${of.siteId} course ${of.courseId}), never a source` : null;
}

export function selectActivities(sites: Sites) {
  const lists = new Map<string, CourseList>();

  async function readList(req: SelectRequest): Promise<CourseList> {
    const moodle = sites.moodle(req.sourceSiteId);
    const roots = [req.categoryId, ...(req.selection?.moreCategoryIds ?? [])];
    const found = new Map<number, { course: MoodleCourse; root: number }>();
    const read = pLimit(READS_AT_ONCE);
    for (const root of roots) {
      const cats = await moodle.categories({ id: root }, req.includeSubcategories);
      if (!cats.some((c) => c.id === root)) {
        const field = root === req.categoryId ? 'category' : 'selection.moreCategoryIds';
        throw ApplicationFailure.nonRetryable(
          `${field}: category ${root} does not exist on ${req.sourceSiteId}; check its id in Moodle's category management`,
          'CategoryNotFound',
        );
      }
      const byCategory = await Promise.all(cats.map((c) => read(() => moodle.coursesByField('category', c.id))));
      // In the categories' order, whatever order the answers came in: a course listed twice keeps its first root.
      for (const courses of byCategory) for (const course of courses) if (!found.has(course.id)) found.set(course.id, { course, root });
    }
    const single = (req.selection?.courseIds ?? []).filter((id) => !found.has(id));
    if (single.length) {
      const courses = await moodle.coursesByField('ids', single.join(','));
      const missing = single.filter((id) => !courses.some((c) => c.id === id));
      if (missing.length) {
        throw ApplicationFailure.nonRetryable(
          `selection.courseIds: course ${missing.join(', ')} does not exist on ${req.sourceSiteId}; remove it from the list`,
          'CourseNotFound',
        );
      }
      const front = courses.filter((c) => c.format === 'site' || c.categoryid === 0);
      if (front.length) {
        throw ApplicationFailure.nonRetryable(
          `selection.courseIds: course ${front.map((c) => c.id).join(', ')} is the site's front page, not a course to archive; remove it from the list`,
          'CourseNotFound',
        );
      }
      // Outside every root: it is its own root, so it lands in the target category itself.
      for (const course of courses) found.set(course.id, { course, root: course.categoryid });
    }
    const list: CourseList = { at: Date.now(), courses: [], excluded: [] };
    for (const { course, root } of [...found.values()].sort((a, b) => a.course.id - b.course.id)) {
      const reason = archiveReason(course) ?? exclusionReason(course, req.selection);
      if (reason) list.excluded.push({ courseId: course.id, shortname: course.shortname, idnumber: course.idnumber ?? '', reason });
      else list.courses.push({ courseId: course.id, root, shortname: course.shortname, categoryId: course.categoryid });
    }
    return list;
  }

  async function courseList(req: SelectRequest): Promise<CourseList> {
    const owner = activityInfo().workflowExecution?.workflowId;
    const key = JSON.stringify([owner, req.sourceSiteId, req.categoryId, req.includeSubcategories, req.selection ?? {}]);
    const cached = lists.get(key);
    if (cached && Date.now() - cached.at < LIST_TTL_MS) return cached;
    const list = await readList(req);
    for (const [k, v] of lists) if (Date.now() - v.at >= LIST_TTL_MS) lists.delete(k);
    lists.set(key, list);
    return list;
  }

  /** One read of the course's contents, as prepare does: declared file bytes and activity count. */
  async function measure(siteId: string, courseId: number): Promise<{ bytes: number; activities: number }> {
    heartbeat(courseId);
    try {
      const shape = courseShape(await sites.moodle(siteId).contents(courseId));
      return { bytes: shape.declaredBytes, activities: shape.activityCount };
    } catch (e) {
      // Deleted since the list was read: prepare will say so for this course; the page goes on.
      if (e instanceof MoodleError && e.kind === 'missing-record') return { bytes: 0, activities: 0 };
      throw e;
    }
  }

  return {
    /** The category a scheduled session archives: the one whose name (or idnumber) is the vintage. */
    async findVintageCategory(req: {
      siteId: string;
      vintage: string;
      match: 'name' | 'idnumber';
      parentCategoryId?: number;
    }): Promise<{ id: number; name: string; path: string }> {
      const criteria: Record<string, string | number> = { [req.match]: req.vintage };
      if (req.parentCategoryId !== undefined) criteria.parent = req.parentCategoryId;
      const found = await sites.moodle(req.siteId).categories(criteria, false);
      const under = req.parentCategoryId !== undefined ? ` under category ${req.parentCategoryId}` : '';
      if (!found.length) {
        throw ApplicationFailure.nonRetryable(
          `no category with ${req.match} "${req.vintage}"${under} on ${req.siteId}: create it, or change the schedule's vintage rule`,
          'VintageCategoryNotFound',
        );
      }
      if (found.length > 1) {
        throw ApplicationFailure.nonRetryable(
          `${found.length} categories have ${req.match} "${req.vintage}" on ${req.siteId} (ids ${found.map((c) => c.id).join(', ')}): give the schedule a parent category to choose`,
          'VintageCategoryAmbiguous',
        );
      }
      return { id: found[0].id, name: found[0].name, path: found[0].path };
    },

    /** One page after the cursor. Courses deleted since the list was read are behind the cursor;
     * courses added meanwhile appear once the list is read again. */
    async selectCourses(req: SelectRequest): Promise<CoursePage> {
      const list = await courseList(req);
      const after = list.courses.filter((c) => c.courseId > req.afterCourseId);
      const page = after.slice(0, req.pageSize);
      const read = pLimit(READS_AT_ONCE);
      const sizes = await Promise.all(
        page.map((c) => (req.withSizes ? read(() => measure(req.sourceSiteId, c.courseId)) : { bytes: 0, activities: 0 })),
      );
      const courses: SelectedCourse[] = page.map((c, i) => ({
        courseId: c.courseId,
        ...sizes[i],
        ...(c.root !== req.categoryId ? { root: c.root } : {}),
        ...(req.describe ? { shortname: c.shortname, categoryId: c.categoryId } : {}),
      }));
      return {
        courses,
        remaining: after.length,
        nextAfter: page.length ? page[page.length - 1].courseId : req.afterCourseId,
        done: after.length <= req.pageSize,
        excluded: list.excluded.length,
        ...(req.describe && req.afterCourseId === 0 ? { excludedCourses: list.excluded } : {}),
      };
    },
  };
}
