// The baseline the users run today (seed 000's "architecture A"): one cron
// script that archives a category one course after another. It makes the
// same calls as a session, through the same activity code and in the phase
// table's order, with no Temporal at all: no retries, no concurrency, no
// history. An activity's heartbeats go to a mock context.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { Catalog } from '../activities/catalog';
import type { ArchiverConfig } from '../contract';
import { PHASES } from '../workflows/phases';
import type { CourseFacts, CourseInput, PhaseRequest, SessionInput } from '../workflows/types';

export async function archiveSequentially(
  config: ArchiverConfig,
  catalog: Catalog,
  input: SessionInput,
  onCourse: () => void,
): Promise<number> {
  const activities = createActivities(config, catalog);
  const env = new MockActivityEnvironment();
  const run = <A, R>(fn: (arg: A) => Promise<R>, arg: A) => env.run(fn, arg) as Promise<R>;
  let archived = 0;
  for (let after = 0; ;) {
    const page = await run(activities.selectCourses, {
      sourceSiteId: input.sourceSiteId,
      categoryId: input.sourceCategoryId,
      includeSubcategories: input.includeSubcategories,
      afterCourseId: after,
      pageSize: 100,
      withSizes: false,
    });
    for (const { courseId, root } of page.courses) {
      const course: CourseInput = {
        session: input.session,
        vintage: input.vintage,
        courseId,
        sourceSiteId: input.sourceSiteId,
        targetSiteId: input.targetSiteId,
        targetCategoryId: input.targetCategoryId!,
        sourceRootCategoryId: root ?? input.sourceCategoryId,
        mirrorSubcategories: input.mirrorSubcategories,
        deleteSource: input.deleteSource,
        failureHoldHours: 0,
      };
      const facts: CourseFacts = { phaseTimes: {} };
      let step = 0;
      for (const phase of PHASES) {
        for (const { activity } of phase.steps) {
          const out: CourseFacts = await run(activities[activity] as (req: PhaseRequest) => Promise<CourseFacts>, { course, facts });
          Object.assign(facts, out);
          await run(activities.recordSteps, { course, steps: [{ activity, facts: out, entryKey: `baseline/${courseId}/${++step}` }] });
        }
        if (facts.skipReason) break;
      }
      archived++;
      onCourse();
    }
    if (page.done) return archived;
    after = page.nextAfter;
  }
}
