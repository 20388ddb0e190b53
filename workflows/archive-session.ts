// archiveSession: selects the courses of a category page by page and runs a
// sliding window of archiveCourse children (at most `concurrency` at once).
// Children are abandoned on purpose: they outlive this run when it continues
// as new, and report their phases and outcome by signal. When only failed
// courses remain, the session waits for the operator's retry or skip until
// the hold runs out. Cancelled, it cancels its courses and waits for them.
import {
  allHandlersFinished, CancellationScope, condition, continueAsNew, getExternalWorkflowHandle, isCancellation,
  ParentClosePolicy, proxyActivities, setHandler, startChild, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { archiveCourse } from './archive-course';
import {
  courseDecisionSignal, courseFinishedSignal, coursePhaseSignal, pauseSignal, progressQuery, resumeSignal,
  retryFailedUpdate, skipUpdate,
} from './messages';
import { courseWorkflowId } from './phases';
import { ArchiveCourseId, ArchiveSession, ArchiveStatus, ArchiveVintage } from './search-attributes';
import { HOUR, SessionState, type SessionProgress, type SessionStateData } from './session-state';
import type { SessionInput } from './types';

const { selectCourses } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: ['CategoryNotFound'] },
});

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_CONTINUE_AS_NEW_AFTER = 200;
export const DEFAULT_FAILURE_HOLD_HOURS = 168;

const rejectIf = (problems: string[]) => { if (problems.length) throw new Error(problems.join('; ')); };

export async function archiveSession(input: SessionInput, carried?: SessionStateData): Promise<SessionProgress> {
  const state = carried ? new SessionState(carried) : SessionState.initial(Date.now());
  const courseHandle = (courseId: number) => getExternalWorkflowHandle(courseWorkflowId(input.session, courseId));
  setHandler(courseFinishedSignal, (outcome) => { state.finished(outcome, Date.now()); });
  setHandler(coursePhaseSignal, ({ courseId, phase }) => { state.phaseChanged(courseId, phase); });
  setHandler(pauseSignal, () => { state.data.paused = true; });
  setHandler(resumeSignal, () => { state.data.paused = false; });
  setHandler(progressQuery, () => state.progress(Date.now()));
  setHandler(retryFailedUpdate, ({ courseIds }) => state.retry(courseIds), {
    validator: ({ courseIds }) => rejectIf(state.retryProblems(courseIds)),
  });
  setHandler(skipUpdate, async (courseIds) => {
    for (const id of state.markSkipped(courseIds, Date.now())) {
      // The failed course waits in its own workflow: tell it to close as skipped.
      await courseHandle(id).signal(courseDecisionSignal, 'skip').catch(() => undefined);
    }
    return courseIds;
  }, {
    validator: (courseIds) => rejectIf(courseIds.length ? state.skipProblems(courseIds) : ['give at least one course id']),
  });
  const setStatus = (status: string) => upsertSearchAttributes([{ key: ArchiveStatus, value: status }]);
  upsertSearchAttributes([
    { key: ArchiveSession, value: input.session },
    { key: ArchiveVintage, value: input.vintage },
    { key: ArchiveStatus, value: 'running' },
  ]);

  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  const canAfter = input.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  const holdHours = input.failureHoldHours ?? DEFAULT_FAILURE_HOLD_HOURS;
  const holdMs = holdHours * HOUR;

  // Courses of the current page not started yet. Not carried: the next run re-reads from the cursor.
  const page: number[] = [];
  let lastPageRead = false;
  async function nextSelected(): Promise<number | undefined> {
    for (;;) {
      while (page.length) {
        const id = page.shift()!;
        if (!state.takeSkipRequest(id, Date.now())) return id;
      }
      if (lastPageRead || state.data.selectionDone) {
        state.data.selectionDone = true;
        return undefined;
      }
      const next = await selectCourses({
        sourceSiteId: input.sourceSiteId, categoryId: input.sourceCategoryId,
        includeSubcategories: input.includeSubcategories, afterCourseId: state.data.cursor, pageSize,
      });
      page.push(...next.courseIds);
      lastPageRead = next.done;
      state.selected(next.remaining);
    }
  }

  async function startCourse(courseId: number) {
    try {
      await startChild(archiveCourse, {
        workflowId: courseWorkflowId(input.session, courseId),
        args: [{
          session: input.session, vintage: input.vintage, courseId, sourceSiteId: input.sourceSiteId,
          targetSiteId: input.targetSiteId, targetCategoryId: input.targetCategoryId,
          sourceRootCategoryId: input.sourceCategoryId, mirrorSubcategories: input.mirrorSubcategories,
          deleteSource: input.deleteSource, failureHoldHours: holdHours,
        }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: ArchiveSession, value: input.session },
          { key: ArchiveVintage, value: input.vintage },
          { key: ArchiveCourseId, value: courseId },
        ],
      });
    } catch (err) {
      // Still running from an earlier execution of this session: it will report here when done.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  async function retryCourse(courseId: number) {
    try {
      await courseHandle(courseId).signal(courseDecisionSignal, 'retry');
    } catch {
      // Its hold ran out and it closed as failed: archive it afresh.
      await startCourse(courseId);
    }
  }

  /** Runs until everything is decided ('done') or this run has started enough courses ('roll-over'). */
  async function run(): Promise<'done' | 'roll-over'> {
    let startsThisRun = 0;
    for (;;) {
      const retry = state.data.retryQueue.shift();
      const courseId = retry ?? (await nextSelected());
      if (courseId !== undefined) {
        await condition(() => state.canStart(input.concurrency));
        state.started(courseId, Date.now());
        await (retry !== undefined ? retryCourse(courseId) : startCourse(courseId));
        if (++startsThisRun >= canAfter || workflowInfo().continueAsNewSuggested) return 'roll-over';
        continue;
      }
      // Nothing left to start: wait for the running courses, then for decisions on failed ones.
      await condition(() => state.data.retryQueue.length > 0 || state.settled);
      if (state.data.retryQueue.length) continue;
      if (!state.data.failed.length) return 'done';
      state.data.decisionDeadline ??= Date.now() + holdMs;
      setStatus('awaiting-decisions');
      const decided = await condition(
        () => state.data.retryQueue.length > 0 || state.data.failed.length === 0,
        Math.max(0, state.data.decisionDeadline - Date.now()),
      );
      if (state.data.retryQueue.length) {
        setStatus('running');
        continue;
      }
      if (!decided || !state.data.failed.length) return 'done';
    }
  }

  let ending: 'done' | 'roll-over';
  try {
    ending = await run();
  } catch (err) {
    if (!isCancellation(err)) {
      setStatus('stopped-on-error');
      throw err;
    }
    state.data.cancelling = true;
    setStatus('cancelling');
    await CancellationScope.nonCancellable(async () => {
      const ids = [...Object.keys(state.data.inFlight).map(Number), ...state.data.failed.map((f) => f.courseId)];
      await Promise.all(ids.map((id) => courseHandle(id).cancel().catch(() => undefined)));
      // Courses stop at once where they can, after their phase where they must (restore, cleanup).
      await condition(() => state.inFlightCount === 0, '1 hour');
    });
    setStatus('cancelled');
    throw err;
  }
  await condition(allHandlersFinished);
  if (ending === 'roll-over') return await continueAsNew<typeof archiveSession>(input, state.data);
  setStatus(state.data.counts.failed ? 'completed-with-failures' : 'completed');
  return state.progress(Date.now());
}
