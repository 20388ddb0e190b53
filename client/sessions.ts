// The small client library the CLI, the demo and the tests share: start a
// session, read its progress and its courses', pause (or drain), resume,
// change its concurrency, retry, skip, cancel.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowIdConflictPolicy } from '@temporalio/common';
import proto from '@temporalio/proto';
import {
  courseProgressQuery,
  pauseSignal,
  progressQuery,
  resumeSignal,
  retryFailedUpdate,
  setConcurrencyUpdate,
  skipUpdate,
} from '../workflows/messages';
import type { PhaseName } from '../workflows/phases';
import { ArchiveCourseId, ArchivePhase, ArchiveSession, ArchiveVintage } from '../workflows/search-attributes';
import { countPhases, type SessionProgress } from '../workflows/session-progress';
import type { CourseProgress } from '../workflows/course-state';
import type { SessionInput } from '../workflows/types';
import type { ArchiverConfig } from '../contract';
import type { archiveSession } from '../workflows';
import { courseWorkflowId, sessionWorkflowId } from '../contract';
import { ActionRefused } from './action-refused';
import { rootCause } from './root-cause';

export async function startSession(client: Client, config: ArchiverConfig, input: SessionInput) {
  return client.workflow.start<typeof archiveSession>('archiveSession', {
    workflowId: sessionWorkflowId(input.session),
    taskQueue: config.mainQueue,
    args: [input],
    // Starting a session that is already running is a mistake, not a second session.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    typedSearchAttributes: [
      { key: ArchiveSession, value: input.session },
      { key: ArchiveVintage, value: input.vintage },
    ],
    // The Web UI's summary of its first run (each run sets its current details itself).
    staticSummary: `Archive session ${input.session}: vintage ${input.vintage}, ${input.sourceSiteId} category ${input.sourceCategoryId} → ${input.targetSiteId} category ${input.targetCategoryId}`,
  });
}

const { temporal } = proto; // a CommonJS package: its namespace is its default export under ESM

const sessionHandle = (client: Client, session: string) => client.workflow.getHandle(sessionWorkflowId(session));

/** What the server knows of the activity a course is running: its attempt and last heartbeat. */
export interface RunningActivity {
  name: string;
  /** False while it waits for a free slot on its host's queue. */
  started: boolean;
  attempt: number;
  maximumAttempts: number;
  /** Bytes done of total, for steps that heartbeat them (transport). */
  bytes?: { done: number; total: number };
  /** The last output line, for steps that run an admin script. */
  line?: string;
  lastFailure?: string;
}

export interface CourseStatus extends CourseProgress {
  activity?: RunningActivity;
}

/** The course's own `progress` query, plus the attempt and heartbeat of its running activity,
 * which only the server knows (a workflow never sees its activities' heartbeats). */
export async function courseStatus(client: Client, session: string, courseId: number): Promise<CourseStatus> {
  const handle = client.workflow.getHandle(courseWorkflowId(session, courseId));
  const [progress, description] = await Promise.all([handle.query(courseProgressQuery), handle.describe()]);
  const pending = description.raw.pendingActivities?.[0];
  if (!pending) return progress;
  const details = pending.heartbeatDetails?.payloads?.[0];
  const beat = (details ? defaultPayloadConverter.fromPayload(details) : {}) as { offset?: number; total?: number; line?: string };
  return {
    ...progress,
    activity: {
      name: pending.activityType?.name ?? '?',
      started: pending.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      attempt: pending.attempt ?? 1,
      maximumAttempts: pending.maximumAttempts ?? 0,
      bytes: beat.offset !== undefined && beat.total !== undefined ? { done: beat.offset, total: beat.total } : undefined,
      line: beat.line || undefined,
      lastFailure: pending.lastFailure?.message ?? undefined,
    },
  };
}

export interface SessionStatus extends SessionProgress {
  /** Asked for (`phases`): running courses per phase, from their ArchivePhase search attribute (held ones are in `waiting`). */
  phases?: Record<PhaseName, number>;
  /** Live detail of the longest-running courses (at most `courses` of them). */
  courses: CourseStatus[];
}

/** The ArchivePhase of a session's running courses, as visibility lists them. */
async function phasesOfRunningCourses(client: Client, session: string): Promise<Map<number, string>> {
  const phaseOf = new Map<number, string>();
  const query = `ArchiveSession=${JSON.stringify(session)} AND WorkflowType="archiveCourse" AND ExecutionStatus="Running"`;
  for await (const w of client.workflow.list({ query })) {
    const courseId = w.typedSearchAttributes.get(ArchiveCourseId);
    const phase = w.typedSearchAttributes.get(ArchivePhase);
    if (courseId !== undefined && phase !== undefined) phaseOf.set(courseId, phase);
  }
  return phaseOf;
}

/** Why a closed workflow failed: its failure's innermost cause (the activity's reason), or undefined if it did not. */
export const failureReason = (handle: WorkflowHandle) =>
  handle.result().then(
    () => undefined,
    (e: Error) => rootCause(e).message,
  );

/** Why a session stopped on an error (the failure of the activity that stopped it), or undefined if it did not. */
export async function sessionStopReason(client: Client, session: string): Promise<string | undefined> {
  const handle = sessionHandle(client, session);
  return (await handle.describe()).status.name === 'FAILED' ? failureReason(handle) : undefined;
}

/** The session's progress; with `courses`, the live detail of that many running courses; with `phases`, the running
 * courses per phase (one visibility list: pollers that do not show it need not pay for it). */
export async function sessionStatus(
  client: Client,
  session: string,
  opts: { courses?: number; phases?: boolean } = {},
): Promise<SessionStatus> {
  const progress = await toSession(session, sessionHandle(client, session).query(progressQuery));
  const ids = progress.runningCourses.slice(0, opts.courses ?? 0).map((c) => c.courseId);
  // A course the session has just counted may not exist yet, or may close meanwhile: it is left out of this reading.
  const [read, phaseOf] = await Promise.all([
    Promise.allSettled(ids.map((id) => courseStatus(client, session, id))),
    opts.phases && progress.running ? phasesOfRunningCourses(client, session) : new Map<number, string>(),
  ]);
  const courses = read.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  // A course shown in a row is counted in the phase its row shows (its own query, fresher than visibility).
  const rowPhase = new Map(courses.filter((c) => c.status === 'running').map((c) => [c.courseId, c.phase]));
  const phaseFor = (id: number) => rowPhase.get(id) ?? phaseOf.get(id);
  return { ...progress, ...(opts.phases ? { phases: countPhases(progress, phaseFor) } : {}), courses };
}

/** A session the server does not know: every command says it alike, with exit 2 (the CLI's "no such thing"). */
const noSuchSession = (session: string, e: WorkflowNotFoundError) =>
  new ActionRefused(
    `Session ${session} does not exist or no longer runs (${e.message}): "moodle-archiver sessions list" shows the sessions there are`,
  );

/** A signal or a cancel: a session the server does not know is said so, as for every other command. */
const toSession = <T>(session: string, call: Promise<T>) =>
  call.catch((e: unknown) => {
    throw e instanceof WorkflowNotFoundError ? noSuchSession(session, e) : e;
  });

/** Starts nothing new; with `drain`, running courses also hold at their next phase boundary until resumed. */
export const pauseSession = (client: Client, session: string, opts: { drain?: boolean } = {}) =>
  toSession(session, sessionHandle(client, session).signal(pauseSignal, { drain: opts.drain ?? false }));
export const resumeSession = (client: Client, session: string) => toSession(session, sessionHandle(client, session).signal(resumeSignal));

async function refusedAsError<T>(session: string, update: Promise<T>): Promise<T> {
  try {
    return await update;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) throw new ActionRefused(e.cause?.message ?? e.message);
    if (e instanceof WorkflowNotFoundError) throw noSuchSession(session, e);
    throw e;
  }
}

/** Re-queues failed courses (all of them without ids); the session refuses ids that are not failed. */
export const retryCourses = (client: Client, session: string, courseIds?: number[]) =>
  refusedAsError(session, sessionHandle(client, session).executeUpdate(retryFailedUpdate, { args: [{ courseIds }] }));

/** Gives up on failed or not-yet-started courses; the session refuses running or finished ones. */
export const skipCourses = (client: Client, session: string, courseIds: number[]) =>
  refusedAsError(session, sessionHandle(client, session).executeUpdate(skipUpdate, { args: [courseIds] }));

/** Courses at once from now on; the session refuses 0 or more than its maxConcurrency. Answers with the previous value. */
export const setConcurrency = (client: Client, session: string, concurrency: number) =>
  refusedAsError(session, sessionHandle(client, session).executeUpdate(setConcurrencyUpdate, { args: [concurrency] }));

/** The same request as the Web UI's or `temporal workflow cancel`: the session stops its courses cleanly. */
export const cancelSession = (client: Client, session: string) => toSession(session, sessionHandle(client, session).cancel());
