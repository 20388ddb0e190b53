// planSession: the dry run behind `plan`. Reads what a session would read
// (its selection, with sizes, and the catalog) and plays the session's rules
// on a simulated clock. It changes nothing on any site.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { buildPlan, PLAN_PAGE_SIZE, type PlanInput, type PlanReport } from './plan';
import type { ExcludedCourse, SelectedCourse } from './types';

const { selectCourses, archivedCourses } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['CategoryNotFound', 'CourseNotFound'] },
});

export async function planSession(input: PlanInput): Promise<PlanReport> {
  const courses: SelectedCourse[] = [];
  let excluded: ExcludedCourse[] = [];
  for (let after = 0, done = false; !done;) {
    const page = await selectCourses({
      sourceSiteId: input.sourceSiteId,
      categoryId: input.sourceCategoryId,
      includeSubcategories: input.includeSubcategories,
      selection: input.selection,
      afterCourseId: after,
      pageSize: PLAN_PAGE_SIZE,
      withSizes: true,
      describe: true,
    });
    courses.push(...page.courses);
    if (page.excludedCourses) excluded = page.excludedCourses;
    [after, done] = [page.nextAfter, page.done];
  }
  const archived = courses.length
    ? await archivedCourses({
        sourceSiteId: input.sourceSiteId,
        courseIds: courses.map((c) => c.courseId),
        deleteSource: input.deleteSource,
      })
    : {};
  const start = input.startAt ? Date.parse(input.startAt) : Date.now();
  return buildPlan(input, start, { courses, excluded, archived });
}
