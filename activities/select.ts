// Course selection: the courses of a category (and its subcategories), one
// page at a time, ordered by id so a cursor resumes exactly where it stopped.
import type { CoursePage } from '../workflows/types';
import type { Sites } from './sites';

export interface SelectRequest {
  sourceSiteId: string;
  categoryId: number;
  includeSubcategories: boolean;
  afterCourseId: number;
  pageSize: number;
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

  return {
    /** One page after the cursor. Courses deleted since the list was read are behind the cursor;
     * courses added meanwhile appear once the list is read again. */
    async selectCourses(req: SelectRequest): Promise<CoursePage> {
      const after = (await courseIdsUnder(req)).filter((id) => id > req.afterCourseId);
      const page = after.slice(0, req.pageSize);
      return {
        courseIds: page,
        remaining: after.length,
        nextAfter: page.length ? page[page.length - 1] : req.afterCourseId,
        done: after.length <= req.pageSize,
      };
    },
  };
}
