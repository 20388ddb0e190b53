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

export function selectActivities(sites: Sites) {
  return {
    async selectCourses(req: SelectRequest): Promise<CoursePage> {
      const moodle = sites.moodle(req.sourceSiteId);
      const cats = await moodle.categories({ id: req.categoryId }, req.includeSubcategories);
      if (!cats.some((c) => c.id === req.categoryId)) {
        throw Object.assign(new Error(`Category ${req.categoryId} does not exist on ${req.sourceSiteId}`), { name: 'CategoryNotFound' });
      }
      // Moodle has no paging here: read each category's direct courses, then page by id.
      const ids: number[] = [];
      for (const c of cats) ids.push(...(await moodle.coursesByField('category', c.id)).map((x) => x.id));
      ids.sort((a, b) => a - b);
      const after = ids.filter((id) => id > req.afterCourseId);
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
