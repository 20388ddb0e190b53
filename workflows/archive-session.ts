// archiveSession: selects the courses of a category page by page into a
// pool, and runs a sliding window of archiveCourse children (at most
// `concurrency` at once, changed live by an update). With allowed windows it
// starts nothing while closed, sleeping on a durable timer until the opening,
// and starts only courses whose predicted duration fits in what is left of
// the window. Children are abandoned on purpose: they outlive this run when
// it continues as new, and report their holds and outcome by signal. When
// only failed courses remain, the session waits for the operator's retry or
// skip until the hold runs out. Cancelled, it cancels its courses and waits
// for them.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  log,
  patched,
  sleep,
  startChild,
  ChildWorkflowCancellationType,
  upsertMemo,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { archiveCourse } from './archive-course';
import {
  courseDecisionSignal,
  courseFinishedSignal,
  courseHoldSignal,
  coursePhaseSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  retryFailedUpdate,
  setConcurrencyUpdate,
  skipUpdate,
} from './messages';
import { notifySafely } from './notify';
import { sessionPlanOf } from './plan';
import {
  ArchiveCategoryId,
  ArchiveCourseId,
  ArchivePhase,
  ArchiveSession,
  ArchiveStatus,
  ArchiveVintage,
  TemporalScheduledStartTime,
} from './search-attributes';
import { sessionDetails, sessionProgress, type SessionProgress } from './session-progress';
import { SessionState, type NextStep, type SessionStateData } from './session-state';
import { type ResolvedVintage, type ScheduledSessionInput, type SessionInput } from './types';
import { describeVintageRule, vintageAt } from './vintage';
import { wallClock } from './windows';
import { windowOpen } from './metrics';
import {
  courseWorkflowId,
  DEFAULT_CONTINUE_AS_NEW_AFTER,
  DEFAULT_FAILURE_HOLD_HOURS,
  DEFAULT_PAGE_SIZE,
  FailureType,
  HOUR,
  MAX_CONCURRENCY,
  RUN_BYTES_BEFORE_ROLL_OVER,
  RUN_EVENTS_BEFORE_ROLL_OVER,
  SESSION_NON_RETRYABLE,
  sessionOfWorkflowId,
  siteQueue,
} from '../contract';

const { selectCourses, checkSites, findVintageCategory, overlappingSessions } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: {
    initialInterval: '2s',
    maximumInterval: '1m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: SESSION_NON_RETRYABLE,
  },
});

const rejectIf = (problems: string[]) => {
  if (problems.length) throw new Error(problems.join('; '));
};

/** Why a concurrency cannot be set; empty when it can. */
export function concurrencyProblems(n: number, max: number): string[] {
  if (!Number.isInteger(n) || n < 1)
    return [`concurrency must be a whole number of at least 1 (got ${n}); to stop starting courses, pause the session`];
  if (n > max) return [`concurrency must be at most ${max}, this session's maxConcurrency (got ${n})`];
  return [];
}

/** What to tell people of an error: an activity's own reason, not "Activity task failed". */
const reasonOf = (err: unknown) => (err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message);

/** A scheduled session's vintage and category, from its rule and the time its schedule fired; recorded
 * in its memo and search attributes. A missing category ends the session as failed, with the reason: the
 * schedule fires again at its next time, never in a loop. */
async function resolveScheduled(given: ScheduledSessionInput): Promise<SessionInput> {
  const info = workflowInfo();
  const firedAt = info.typedSearchAttributes.get(TemporalScheduledStartTime) ?? info.startTime;
  const { vintageRule: rule, scheduleId, ...rest } = given;
  const session = sessionOfWorkflowId(info.workflowId) ?? info.workflowId;
  const fired = `schedule ${scheduleId} fired at ${wallClock(firedAt.getTime(), rule.timezone)}`;
  const vintage = vintageAt(rule, firedAt.getTime());
  if (vintage === null) {
    throw ApplicationFailure.nonRetryable(
      `${fired}: its vintage list starts later (${describeVintageRule(rule)}); nothing to archive yet`,
      'NoVintageYet',
    );
  }
  upsertSearchAttributes([
    { key: ArchiveSession, value: session },
    { key: ArchiveVintage, value: vintage },
    { key: ArchiveStatus, value: 'resolving' },
  ]);
  let category: { id: number; name: string };
  try {
    category = await findVintageCategory({
      siteId: given.sourceSiteId,
      vintage,
      match: rule.match,
      parentCategoryId: rule.parentCategoryId,
    });
  } catch (err) {
    upsertSearchAttributes([{ key: ArchiveStatus, value: 'stopped-on-error' }]);
    const reason = `${fired} for vintage ${vintage}: ${reasonOf(err)}`;
    await notifySafely({
      kind: 'session-ended',
      workflowId: info.workflowId,
      session,
      vintage,
      state: 'stopped-on-error',
      total: 0,
      counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
      failed: [],
      startedAt: firedAt.toISOString(),
      endedAt: new Date().toISOString(),
      reason,
    });
    throw ApplicationFailure.nonRetryable(reason, 'VintageCategoryNotFound');
  }
  const resolved: ResolvedVintage = {
    scheduleId,
    firedAt: firedAt.toISOString(),
    rule: describeVintageRule(rule),
    vintage,
    categoryId: category.id,
    categoryName: category.name,
  };
  return { ...rest, session, vintage, sourceCategoryId: category.id, resolved };
}

export async function archiveSession(given: SessionInput | ScheduledSessionInput, carried?: SessionStateData): Promise<SessionProgress> {
  // A scheduled session resolves once, at its first run; later runs carry the resolved input.
  const input = 'vintageRule' in given ? await resolveScheduled(given) : given;
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  const data = carried ?? SessionState.initialData(Date.now(), input.concurrency);
  // What it selects, for the sessions that start after it (activities/overlaps.ts).
  const scope = {
    sourceSiteId: input.sourceSiteId,
    roots: [input.sourceCategoryId, ...(input.selection?.moreCategoryIds ?? [])],
    includeSubcategories: input.includeSubcategories,
    courseIds: input.selection?.courseIds ?? [],
  };
  // Sessions begun before the overlap check replay without it (and their memo as it was).
  const overlapAware = patched('one-session-per-course');
  // Runs begun before lean courses replay as they ran: one start at a time, rolled over by starts only, and courses
  // that run each step as its own activity.
  const lean = patched('lean-courses');
  // Runs begun before read-ahead read a page only when the pool was empty, starting nothing meanwhile.
  const readsAhead = patched('read-ahead');
  // Continue-as-new starts a run without the memo: each run writes it again.
  if (overlapAware) upsertMemo({ selection: { since: data.startedAt, scope }, ...(input.resolved ? { resolved: input.resolved } : {}) });
  else if (input.resolved) upsertMemo({ resolved: input.resolved });
  const plan = sessionPlanOf(input, data.startedAt, pageSize);
  const { calendar } = plan;
  const state = new SessionState(data, plan);
  const maxConcurrency = input.maxConcurrency ?? MAX_CONCURRENCY;
  const courseHandle = (courseId: number) => getExternalWorkflowHandle(courseWorkflowId(input.session, courseId));
  const tellRunning = (hold: boolean) =>
    Promise.all(
      Object.keys(state.data.inFlight).map((id) =>
        courseHandle(Number(id))
          .signal(courseHoldSignal, hold)
          .catch(() => undefined),
      ),
    );
  // Declared before the handlers: a report buffered before this run began reaches its handler as it is set.
  let status = 'running';
  /** The Web UI's current details of the session (no event: the UI reads them when it shows it). */
  const showDetails = () => setCurrentDetails(sessionDetails(input, sessionProgress(state, Date.now()), status));
  // Each handler is one call on the state; the workflow only carries out what it says to tell the courses.
  setHandler(courseFinishedSignal, (outcome) => {
    state.finished(outcome, Date.now());
    showDetails();
  });
  setHandler(coursePhaseSignal, ({ courseId, phase }) => state.phaseChanged(courseId, phase));
  setHandler(pauseSignal, async (opts) => {
    if (state.pause(opts?.drain)) await tellRunning(true);
  });
  setHandler(resumeSignal, async () => {
    if (state.resume()) await tellRunning(false);
  });
  setHandler(setConcurrencyUpdate, (n) => state.setConcurrency(n), { validator: (n) => rejectIf(concurrencyProblems(n, maxConcurrency)) });
  setHandler(progressQuery, () => sessionProgress(state, Date.now()));
  setHandler(retryFailedUpdate, ({ courseIds }) => state.retry(courseIds), {
    validator: ({ courseIds }) => rejectIf(state.retryProblems(courseIds)),
  });
  setHandler(
    skipUpdate,
    async (courseIds) => {
      // A failed course waits in its own workflow: tell it to close as skipped.
      await Promise.all(
        state.markSkipped(courseIds, Date.now()).map((id) =>
          courseHandle(id)
            .signal(courseDecisionSignal, 'skip')
            .catch(() => undefined),
        ),
      );
      return courseIds;
    },
    {
      validator: (courseIds) => rejectIf(courseIds.length ? state.skipProblems(courseIds) : ['give at least one course id']),
    },
  );
  const setStatus = (next: string) => {
    if (next !== status) upsertSearchAttributes([{ key: ArchiveStatus, value: next }]);
    status = next;
    windowOpen.set(next === 'waiting-for-window' ? 0 : 1, { session: input.session });
    showDetails();
  };
  upsertSearchAttributes([
    { key: ArchiveSession, value: input.session },
    { key: ArchiveVintage, value: input.vintage },
    { key: ArchiveCategoryId, value: input.sourceCategoryId },
    { key: ArchiveStatus, value: status },
  ]);

  const canAfter = input.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  const holdHours = input.failureHoldHours ?? DEFAULT_FAILURE_HOLD_HOURS;
  const holdMs = holdHours * HOUR;

  async function readPage() {
    const page = await selectCourses({
      sourceSiteId: input.sourceSiteId,
      categoryId: input.sourceCategoryId,
      includeSubcategories: input.includeSubcategories,
      selection: input.selection,
      afterCourseId: state.data.cursor,
      pageSize,
      withSizes: Boolean(input.windows),
    });
    state.selected(page, Date.now());
  }

  /** The page read in flight, if any: a read started ahead is joined, never doubled. A failed read stays here, so
   * whoever waits for the next page gets its error. */
  let reading: Promise<void> | undefined;
  function nextPage(): Promise<void> {
    if (!reading) {
      const read = readPage();
      reading = read;
      read.then(
        () => {
          if (reading === read) reading = undefined;
        },
        () => undefined,
      );
    }
    return reading;
  }

  /** Fewer courses wait than one round of starts takes: the next page is read while the running ones go on, so
   * slots freed meanwhile do not wait for it. */
  const readAheadIfLow = () => {
    if (readsAhead && !state.data.selectionDone && state.data.pool.length < state.data.concurrency) void nextPage();
  };

  async function startCourse({ courseId, root }: { courseId: number; root?: number }) {
    // A start the session's cancel reaches after it went out may still make the child: a start is never cancelled
    // (earlier runs' were), so every course started is in flight, and the cancel reaches it like the others.
    const start = (go: () => Promise<unknown>) => (lean ? CancellationScope.nonCancellable(go) : go());
    try {
      await start(() =>
        startChild(archiveCourse, {
          workflowId: courseWorkflowId(input.session, courseId),
          args: [
            {
              session: input.session,
              vintage: input.vintage,
              courseId,
              sourceSiteId: input.sourceSiteId,
              targetSiteId: input.targetSiteId,
              targetCategoryId: input.targetCategoryId,
              sourceRootCategoryId: root ?? input.sourceCategoryId,
              mirrorSubcategories: input.mirrorSubcategories,
              deleteSource: input.deleteSource,
              failureHoldHours: holdHours,
              windows: input.windows ? { spec: input.windows, clock: input.clock, realStart: state.data.startedAt } : undefined,
              ...(lean ? { stepsTogether: true as const } : {}),
            },
          ],
          // What the Web UI shows in its list and at the top of the course's page.
          staticSummary: `Course ${courseId} of session ${input.session}: ${input.sourceSiteId} → ${input.targetSiteId}`,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          // Said explicitly: with it, a start that rejects as cancelled never made the child (notStarted relies on it).
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          typedSearchAttributes: [
            { key: ArchiveSession, value: input.session },
            { key: ArchiveVintage, value: input.vintage },
            { key: ArchiveCourseId, value: courseId },
            // Set at its start: the course upserts only what changes (its phase, its status at the end).
            { key: ArchiveStatus, value: 'running' },
            ...(lean ? [{ key: ArchivePhase, value: 'prepare' }] : []),
          ],
        }),
      );
    } catch (err) {
      // A start cancelled with the session never made the child: waiting for its report would wait forever.
      if (isCancellation(err)) state.notStarted(courseId);
      // Still running from an earlier execution of this session: it will report here when done.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  async function retryCourse(course: { courseId: number; root?: number }) {
    try {
      await courseHandle(course.courseId).signal(courseDecisionSignal, 'retry');
    } catch (err) {
      // Cancelled with the session: its held workflow still exists, and the cancel reaches it.
      if (isCancellation(err)) throw err;
      // Its hold ran out and it closed as failed: archive it afresh.
      await startCourse(course);
    }
  }

  /** This run's history is as long as a run may grow (lean runs; earlier ones rolled over by starts only): whatever it
   * waits for, it rolls over, so a vintage of any size and a stream of course reports keep every run small. */
  const historyFull = () => {
    const info = workflowInfo();
    const events = input.continueAsNewAtEvents ?? RUN_EVENTS_BEFORE_ROLL_OVER;
    return lean && (info.historyLength >= events || info.historySize >= RUN_BYTES_BEFORE_ROLL_OVER || info.continueAsNewSuggested);
  };

  /** Runs until everything is decided ('done') or this run is long enough ('roll-over'). */
  async function run(): Promise<'done' | 'roll-over'> {
    let startsThisRun = 0;
    for (;;) {
      if (historyFull()) return 'roll-over';
      if (!state.data.pool.length) {
        if (!state.data.selectionDone) {
          await nextPage();
          continue;
        }
        // Nothing left to start: wait for the running courses, then for decisions on failed ones.
        await condition(() => state.data.pool.length > 0 || state.settled || historyFull());
        if (state.data.pool.length || historyFull()) continue;
        if (!state.data.failed.length) return 'done';
        state.data.decisionDeadline ??= Date.now() + holdMs;
        setStatus('awaiting-decisions');
        const decided = await condition(
          () => state.data.pool.length > 0 || state.data.failed.length === 0 || historyFull(),
          Math.max(0, state.data.decisionDeadline - Date.now()),
        );
        if (state.data.pool.length || (decided && historyFull())) continue;
        // Here either the hold ran out or no failed course is left: the session is done.
        if (!decided || !state.data.failed.length) return 'done';
      }
      await condition(() => state.canStart() || !state.data.pool.length || historyFull());
      if (!state.data.pool.length || historyFull()) continue;
      const next = state.nextStep(Date.now());
      if (next.kind === 'select') {
        await nextPage();
      } else if (next.kind === 'wait') {
        // A durable timer to the window's opening (or closing), cut short by anything that changes the picture.
        state.data.waiting = { reason: next.reason, until: next.until };
        setStatus(next.reason === 'window-closed' || !state.inFlightCount ? 'waiting-for-window' : 'running');
        const seen = state.changes;
        const changed = () => state.changes !== seen || historyFull();
        if (Number.isFinite(next.until)) await condition(changed, Math.max(1, next.until - Date.now()));
        else await condition(changed);
        state.data.waiting = undefined;
      } else {
        setStatus('running');
        // Every course that may start now starts in this workflow task: the starts go out together, and their
        // answers come back together (an earlier run started one at a time).
        const starts: Promise<void>[] = [];
        for (
          let step: NextStep = next;
          step.kind === 'start';
          step = lean && state.canStart() ? state.nextStep(Date.now()) : { kind: 'select' }
        ) {
          state.started(step.course, Date.now(), step);
          starts.push(step.course.retryFrom ? retryCourse(step.course) : startCourse(step.course));
          startsThisRun++;
        }
        readAheadIfLow();
        await Promise.all(starts);
        if (startsThisRun >= canAfter || workflowInfo().continueAsNewSuggested) return 'roll-over';
      }
    }
  }

  /** One durable timer per opening or closing, so the status (and `progress`'s clock) follows the window
   * even while every slot is busy and nothing else happens. */
  async function followWindow() {
    for (let change = calendar.nextChange(Date.now()); change !== null; change = calendar.nextChange(Date.now())) {
      await sleep(Math.max(1, change - Date.now()));
      if (status === 'running' || status === 'waiting-for-window')
        setStatus(calendar.at(Date.now()).open ? 'running' : 'waiting-for-window');
    }
  }
  followWindow().catch((err: unknown) => {
    if (!isCancellation(err)) throw err;
  });

  const tellEnd = (endState: string, reason?: string) => {
    const p = sessionProgress(state, Date.now());
    return notifySafely({
      kind: 'session-ended',
      workflowId: workflowInfo().workflowId,
      session: input.session,
      vintage: input.vintage,
      state: endState,
      total: p.total,
      counts: p.counts,
      failed: p.failed.map((f) => ({ courseId: f.courseId, phase: f.phase, message: f.message })),
      startedAt: p.startedAt,
      endedAt: p.asOf,
      ...(reason ? { reason } : {}),
    });
  };

  /** Once no course of the session runs: its folder on each host (what skipped or failed courses left there). */
  async function removeSessionFolders(): Promise<void> {
    for (const siteId of new Set([input.sourceSiteId, input.targetSiteId])) {
      const { removeSessionStaging } = proxyActivities<Activities>({
        taskQueue: siteQueue(siteId),
        startToCloseTimeout: '5m',
        retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10 },
      });
      await removeSessionStaging({ siteId, session: input.session });
    }
  }

  /** One session per course: a session that began earlier and selects some of the same courses stops this one
   * (it names it), or this one waits for it to end. Once, at the first run. */
  async function waitForOverlaps() {
    for (let pause = 10_000; ; pause = Math.min(pause * 2, 5 * 60_000)) {
      const earlier = await overlappingSessions({ session: input.session, since: data.startedAt, scope });
      if (!earlier.length) return;
      const names = earlier.map((o) => `${o.session} (running since ${new Date(o.since).toISOString()})`).join(', ');
      if ((input.whenOverlapping ?? 'refuse') === 'refuse')
        throw ApplicationFailure.nonRetryable(
          `session ${names} selects some of the same courses, and a course is archived by one session at a time: wait for it to end (or cancel it), or start this session with whenOverlapping "wait"`,
          FailureType.SessionOverlaps,
        );
      setStatus('waiting');
      log.info(`waiting for session ${names} to end: it selects some of the same courses`);
      await sleep(pause);
    }
  }

  let ending: 'done' | 'roll-over';
  try {
    if (!carried && overlapAware) await waitForOverlaps();
    setStatus('running');
    // Once per session: both sites answer, with a release this tool supports, and the target category exists.
    if (!state.data.sites.length) {
      // The first page is read while the sites are checked (a read has no effect: a failed check stops the session).
      if (readsAhead && !carried) void nextPage();
      state.data.sites = await checkSites({
        siteIds: [input.sourceSiteId, input.targetSiteId],
        target: { siteId: input.targetSiteId, categoryId: input.targetCategoryId },
        sourceRoots: scope.roots,
      });
    }
    ending = await run();
    // A page read ahead joins this run's state before it is carried over.
    if (reading) await reading;
  } catch (err) {
    if (!isCancellation(err)) {
      setStatus('stopped-on-error');
      await tellEnd('stopped-on-error', reasonOf(err));
      throw err;
    }
    state.data.cancelling = true;
    setStatus('cancelling');
    await CancellationScope.nonCancellable(async () => {
      const ids = [...Object.keys(state.data.inFlight).map(Number), ...state.data.failed.map((f) => f.courseId)];
      await Promise.all(
        ids.map((id) =>
          courseHandle(id)
            .cancel()
            .catch(() => undefined),
        ),
      );
      // Courses stop at once where they can, after their phase where they must (restore, cleanup).
      await condition(() => state.inFlightCount === 0, '1 hour');
    });
    await CancellationScope.nonCancellable(removeSessionFolders);
    setStatus('cancelled');
    await tellEnd('cancelled');
    throw err;
  }
  await condition(allHandlersFinished);
  if (ending === 'roll-over') return await continueAsNew<typeof archiveSession>(input, state.data);
  await removeSessionFolders();
  setStatus(state.data.counts.failed ? 'completed-with-failures' : 'completed');
  await tellEnd(status);
  return sessionProgress(state, Date.now());
}
