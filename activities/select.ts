// Course selection: the courses of a category (and its subcategories), one
// page at a time, ordered by id so a cursor resumes exactly where it stopped.
import { heartbeat } from '@temporalio/activity';
import type { CoursePage, SelectedCourse } from '../workflows/types';
import { courseShape } from './course-shape';
import { MoodleError } from './moodle/errors';
import type { Sites } from './sites';

export interface SelectRequest {
  sourceSiteId: string;
  categoryId: number;
  includeSubcategories: boolean;
  afterCourseId: number;
  pageSize: number;
  /** Read each course's size and activity count (sessions with windows predict durations from them). */
  withSizes: boolean;
}

/** How long a category's course list is reused between pages: Moodle has no paging here, so
 * without it a 10,000-course vintage would be read in full for each of its 100 pages. */
const LIST_TTL_MS = 5 * 60_000;

export function selectActivities(sites: Sites) {
  const lists = new Map<string, { at: number; ids: number[] }>();

  async function courseIdsUnder(req: SelectRequest): Promise<number[]> {
    const key = JSON.stringify([req.sourceSiteId, req.categoryId, req.includeSubcategories]);
    const cached = lists.get(key);
    if (cached && Date.now() - cached.at < LIST_TTL_MS) return cached.ids;
    const moodle = sites.moodle(req.sourceSiteId);
    const cats = await moodle.categories({ id: req.categoryId }, req.includeSubcategories);
    if (!cats.some((c) => c.id === req.categoryId)) {
      throw Object.assign(new Error(`Category ${req.categoryId} does not exist on ${req.sourceSiteId}`), { name: 'CategoryNotFound' });
    }
    const ids: number[] = [];
    for (const c of cats) ids.push(...(await moodle.coursesByField('category', c.id)).map((x) => x.id));
    ids.sort((a, b) => a - b);
    for (const [k, v] of lists) if (Date.now() - v.at >= LIST_TTL_MS) lists.delete(k);
    lists.set(key, { at: Date.now(), ids });
    return ids;
  }

  /** One read of the course's contents, as prepare does: declared file bytes and activity count. */
  async function measure(siteId: string, courseId: number): Promise<SelectedCourse> {
    heartbeat(courseId);
    try {
      const shape = courseShape(await sites.moodle(siteId).contents(courseId));
      return { courseId, bytes: shape.declaredBytes, activities: shape.activityCount };
    } catch (e) {
      // Deleted since the list was read: prepare will say so for this course; the page goes on.
      if (e instanceof MoodleError && e.kind === 'missing-record') return { courseId, bytes: 0, activities: 0 };
      throw e;
    }
  }

  return {
    /** One page after the cursor. Courses deleted since the list was read are behind the cursor;
     * courses added meanwhile appear once the list is read again. */
    async selectCourses(req: SelectRequest): Promise<CoursePage> {
      const after = (await courseIdsUnder(req)).filter((id) => id > req.afterCourseId);
      const page = after.slice(0, req.pageSize);
      const courses: SelectedCourse[] = [];
      for (const courseId of page) courses.push(req.withSizes ? await measure(req.sourceSiteId, courseId) : { courseId, bytes: 0, activities: 0 });
      return {
        courses,
        remaining: after.length,
        nextAfter: page.length ? page[page.length - 1] : req.afterCourseId,
        done: after.length <= req.pageSize,
      };
    },
  };
}
