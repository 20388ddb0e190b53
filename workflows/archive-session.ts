// archiveSession: selects the courses of a category page by page and runs a
// sliding window of archiveCourse children (at most `concurrency` at once).
// Children are abandoned on purpose: they outlive this run when it continues
// as new, and report their outcome by signal.
import {
  allHandlersFinished, condition, continueAsNew, ParentClosePolicy, proxyActivities, setHandler, startChild,
  upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { archiveCourse } from './archive-course';
import { courseFinishedSignal, pauseSignal, progressQuery, resumeSignal } from './messages';
import { courseWorkflowId } from './phases';
import { ArchiveCourseId, ArchiveSession, ArchiveStatus, ArchiveVintage } from './search-attributes';
import { SessionState, type SessionProgress, type SessionStateData } from './session-state';
import type { SessionInput } from './types';

const { selectCourses } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: ['CategoryNotFound'] },
});

export async function archiveSession(input: SessionInput, carried?: SessionStateData): Promise<SessionProgress> {
  const state = carried ? new SessionState(carried) : SessionState.initial(Date.now());
  setHandler(courseFinishedSignal, (outcome) => { state.finished(outcome); });
  setHandler(pauseSignal, () => { state.data.paused = true; });
  setHandler(resumeSignal, () => { state.data.paused = false; });
  setHandler(progressQuery, () => state.progress());
  upsertSearchAttributes([
    { key: ArchiveSession, value: input.session },
    { key: ArchiveVintage, value: input.vintage },
    { key: ArchiveStatus, value: 'running' },
  ]);

  const pageSize = input.pageSize ?? 100;
  const canAfter = input.continueAsNewAfter ?? 500;
  let startedThisRun = 0;
  while (!state.data.selectionDone) {
    const page = await selectCourses({
      sourceSiteId: input.sourceSiteId, categoryId: input.sourceCategoryId,
      includeSubcategories: input.includeSubcategories, afterCourseId: state.data.cursor, pageSize,
    });
    state.data.total = state.done + state.inFlightCount + page.remaining;
    for (const courseId of page.courseIds) {
      await condition(() => state.canStart(input.concurrency));
      state.started(courseId, Date.now());
      try {
        await startChild(archiveCourse, {
          workflowId: courseWorkflowId(input.session, courseId),
          args: [{
            session: input.session, vintage: input.vintage, courseId, sourceSiteId: input.sourceSiteId,
            targetSiteId: input.targetSiteId, targetCategoryId: input.targetCategoryId,
            sourceRootCategoryId: input.sourceCategoryId, mirrorSubcategories: input.mirrorSubcategories,
            deleteSource: input.deleteSource,
          }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: [
            { key: ArchiveSession, value: input.session },
            { key: ArchiveVintage, value: input.vintage },
            { key: ArchiveCourseId, value: courseId },
          ],
        });
      } catch (err) {
        // Still running from an earlier run of this session: it will report here when done.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      startedThisRun++;
      if (startedThisRun >= canAfter || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        return continueAsNew<typeof archiveSession>(input, state.data);
      }
    }
    state.data.selectionDone = page.done;
  }
  await condition(() => state.inFlightCount === 0);
  upsertSearchAttributes([{ key: ArchiveStatus, value: state.data.counts.failed ? 'completed-with-failures' : 'completed' }]);
  return state.progress();
}
