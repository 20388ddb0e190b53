// What an operator reads about sessions and courses, from Temporal's
// visibility and event history (the tracking registry) and from the catalog:
// `sessions list`, `course show`, and the data behind `report`.
import {
  isGrpcServiceError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { ActionRefused } from './action-refused';
import { defaultPayloadConverter } from '@temporalio/common';
import type { CatalogRow } from '../activities/catalog';
import { courseWorkflowId, sessionOfWorkflowId, sessionWorkflowId, workflowLink, type ArchiverConfig } from '../contract';
import { progressQuery } from '../workflows/messages';
import { DISCARD_STEPS, PHASES, type PhaseName } from '../workflows/phases';
import { ArchiveCourseId, ArchiveSession, ArchiveStatus, ArchiveVintage } from '../workflows/search-attributes';
import type { SessionProgress } from '../workflows/session-progress';
import type { CourseFacts, CourseInput, CourseOutcome, SessionInput } from '../workflows/types';
import { phaseHosts } from '../workflows/prediction';
import { courseStatus, failureReason, type CourseStatus } from './sessions';

const DISCARD_ACTIVITIES = new Set<string>(DISCARD_STEPS.map((s) => s.activity));
const PHASE_OF_ACTIVITY = new Map<string, PhaseName>(PHASES.flatMap((p) => p.steps.map((s): [string, PhaseName] => [s.activity, p.name])));

/** A session's progress: its live query while it runs, its result once completed; null otherwise. */
async function sessionProgress(
  client: Client,
  info: Pick<WorkflowExecutionInfo, 'workflowId' | 'status'>,
): Promise<SessionProgress | null> {
  const handle = client.workflow.getHandle(info.workflowId);
  try {
    if (info.status.name === 'RUNNING') return await handle.query(progressQuery);
    if (info.status.name === 'COMPLETED') return (await handle.result()) as SessionProgress;
  } catch {
    // A query during a roll-over, a result not readable: the row shows what visibility knows.
  }
  return null;
}

export interface SessionRow {
  session: string;
  vintage: string;
  /** Temporal's execution status (RUNNING, COMPLETED, FAILED, ...). */
  execution: string;
  /** Ours: running, waiting-for-window, awaiting-decisions, completed-with-failures, ... */
  state: string;
  percent: number | null;
  done: number | null;
  total: number | null;
  failed: number | null;
  startedAt: string;
  closedAt: string | null;
}

/** Every session, newest first: one row per session (its latest run), with percent and failures. */
const INVALID_ARGUMENT = 3; // the gRPC status of a refused visibility filter

export async function listSessions(client: Client, opts: { query?: string; limit?: number } = {}): Promise<SessionRow[]> {
  const query = `WorkflowType="archiveSession" AND ExecutionStatus!="ContinuedAsNew"${opts.query ? ` AND (${opts.query})` : ''}`;
  const infos: WorkflowExecutionInfo[] = [];
  try {
    for await (const info of client.workflow.list({ query })) {
      infos.push(info);
      if (infos.length >= (opts.limit ?? 200)) break;
    }
  } catch (e) {
    // The server's own reason for refusing the filter (a typo, a quote missing, an unknown attribute), as bad input.
    const refusal = [e, (e as { cause?: unknown }).cause].find((x) => isGrpcServiceError(x) && x.code === INVALID_ARGUMENT);
    if (opts.query && refusal)
      throw new ActionRefused(
        `--query: the server refused "${opts.query}": ${(refusal as Error & { details?: string }).details ?? (refusal as Error).message}; write a visibility filter such as 'ArchiveVintage="2024-2025"' (also ArchiveSession, ArchiveStatus, ArchivePhase, ExecutionStatus)`,
      );
    throw e;
  }
  return Promise.all(
    infos.map(async (info): Promise<SessionRow> => {
      const p = await sessionProgress(client, info);
      const sa = info.typedSearchAttributes;
      return {
        session: sa.get(ArchiveSession) ?? sessionOfWorkflowId(info.workflowId) ?? info.workflowId,
        vintage: sa.get(ArchiveVintage) ?? '',
        execution: info.status.name,
        state: sa.get(ArchiveStatus) ?? '',
        percent: p?.percent ?? null,
        done: p?.done ?? null,
        total: p?.total ?? null,
        failed: p ? p.counts.failed : null,
        // When the session began: its first run's start, which the session carries (this run began at its last
        // continue-as-new).
        startedAt: p?.startedAt ?? info.startTime.toISOString(),
        closedAt: info.closeTime?.toISOString() ?? null,
      };
    }),
  );
}

export interface PhaseRecord {
  /** 'discard': a cancelled or closed course's staging files removed (the cleanup steps that delete nothing). */
  phase: PhaseName | 'discard';
  startedAt: string | null;
  endedAt: string | null;
  seconds: number | null;
  /** Attempts of its activities together (1 per step when nothing failed). */
  attempts: number;
  outcome: 'completed' | 'failed' | 'running' | 'cancelled' | 'timed-out';
  lastError?: string;
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
type Failure = NonNullable<NonNullable<HistoryEvent['markerRecordedEventAttributes']>['failure']>;

const failureText = (f: Failure) => (f.cause?.message ? `${f.message}: ${f.cause.message}` : (f.message ?? undefined));

/** The SDK's marker for a local activity, and what its data says (the step, its attempts, when it was scheduled). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
function localActivityData(payload: Parameters<typeof defaultPayloadConverter.fromPayload>[0] | undefined) {
  if (!payload) return undefined;
  try {
    const d = defaultPayloadConverter.fromPayload<{ activity_type?: string; attempt?: number; original_schedule_time?: unknown }>(payload);
    if (typeof d?.activity_type !== 'string') return undefined;
    const t = d.original_schedule_time as { seconds?: number | string; nanos?: number } | string | undefined;
    const ms =
      typeof t === 'string' ? Date.parse(t) : t?.seconds != null ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;
    return {
      activity_type: d.activity_type,
      attempt: d.attempt,
      scheduledAt: Number.isFinite(ms) ? new Date(ms).toISOString() : undefined,
    };
  } catch {
    return undefined;
  }
}

/** The phases a course ran, from its event history: times, attempts, the last error of each. */
export function phasesFromHistory(events: HistoryEvent[]): PhaseRecord[] {
  const byScheduled = new Map<string, PhaseRecord>();
  const records: PhaseRecord[] = [];
  /** The record a step that begins at `at` joins: its phase's, or a new one (a phase run again, a discard). */
  const stepBegun = (name: string, at: string | null): PhaseRecord | undefined => {
    const inPhase = PHASE_OF_ACTIVITY.get(name);
    if (!inPhase) return undefined;
    // Staging removals outside a cleanup discard a course that ends without an archive.
    const phase = DISCARD_ACTIVITIES.has(name) && records.at(-1)?.phase !== 'cleanup' ? 'discard' : inPhase;
    // The steps of one phase make one record, retries of the phase a new one.
    let rec = records.at(-1);
    if (!rec || rec.phase !== phase || rec.outcome !== 'completed') {
      rec = { phase, startedAt: at, endedAt: null, seconds: null, attempts: 0, outcome: 'running' };
      records.push(rec);
    } else {
      rec.outcome = 'running';
    }
    return rec;
  };
  for (const e of events) {
    const id = String(e.eventId);
    const at =
      e.eventTime?.seconds != null
        ? new Date(Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6)).toISOString()
        : null;
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const rec = stepBegun(scheduled.activityType?.name ?? '', at);
      if (rec) byScheduled.set(id, rec);
      continue;
    }
    // A step on the main worker is a local activity: one marker when it ends, with its attempts and any failure.
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === LOCAL_ACTIVITY_MARKER) {
      const data = localActivityData(marker.details?.data?.payloads?.[0]);
      const rec = data && stepBegun(data.activity_type, data.scheduledAt ?? at);
      if (!rec) continue;
      rec.attempts = Math.max(rec.attempts, data.attempt ?? 1);
      rec.endedAt = at;
      rec.seconds = rec.startedAt && at ? (Date.parse(at) - Date.parse(rec.startedAt)) / 1000 : null;
      rec.outcome = marker.failure ? 'failed' : 'completed';
      if (marker.failure) rec.lastError = failureText(marker.failure);
      continue;
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const rec = byScheduled.get(String(started.scheduledEventId));
      if (!rec) continue;
      // Retries are not in history: the started event carries the attempt count and the previous failure. A phase
      // of several steps was tried as often as its most tried step (a retry resumes after the last step done).
      rec.attempts = Math.max(rec.attempts, started.attempt ?? 1);
      if (started.lastFailure?.message) rec.lastError = started.lastFailure.message;
      continue;
    }
    const ended =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (ended) {
      const rec = byScheduled.get(String(ended.scheduledEventId));
      if (!rec) continue;
      rec.endedAt = at;
      rec.seconds = rec.startedAt && at ? (Date.parse(at) - Date.parse(rec.startedAt)) / 1000 : null;
      rec.outcome = e.activityTaskCompletedEventAttributes
        ? 'completed'
        : e.activityTaskFailedEventAttributes
          ? 'failed'
          : e.activityTaskTimedOutEventAttributes
            ? 'timed-out'
            : 'cancelled';
      const failure = e.activityTaskFailedEventAttributes?.failure ?? e.activityTaskTimedOutEventAttributes?.failure;
      if (failure) rec.lastError = failureText(failure);
    }
  }
  return records;
}

export interface CourseDetails {
  session: string;
  courseId: number;
  workflowId: string;
  execution: string;
  /** Running: its progress with its activity's attempt and heartbeat; completed: its outcome. */
  progress: CourseStatus | (CourseOutcome & { facts: CourseFacts }) | null;
  phases: PhaseRecord[];
  catalog: CatalogRow | null;
}

/** One course: its live progress (or final outcome), its phases from history, and its catalog row. */
export async function courseDetails(
  client: Client,
  session: string,
  courseId: number,
  catalogRow: (sourceSiteId: string) => Promise<CatalogRow | null>,
): Promise<CourseDetails> {
  const handle = client.workflow.getHandle(courseWorkflowId(session, courseId));
  let description;
  try {
    description = await handle.describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError)
      throw new WorkflowNotFoundError(
        `session ${session} has no course ${courseId} (no workflow ${courseWorkflowId(session, courseId)})`,
        e.workflowId,
        e.runId,
      );
    throw e;
  }
  const execution = description.status.name;
  const progress =
    execution === 'RUNNING'
      ? await courseStatus(client, session, courseId).catch(() => null)
      : execution === 'COMPLETED'
        ? await handle.result().catch(() => null)
        : null;
  const events = (await handle.fetchHistory()).events ?? [];
  const start = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = start ? (defaultPayloadConverter.fromPayload(start) as CourseInput) : null;
  return {
    session,
    courseId,
    workflowId: handle.workflowId,
    execution,
    progress,
    phases: phasesFromHistory(events),
    catalog: input ? await catalogRow(input.sourceSiteId) : null,
  };
}

export interface ReportCourse {
  courseId: number;
  shortname: string;
  fullname: string;
  status: string;
  execution: string;
  startedAt: string;
  closedAt: string | null;
  seconds: number | null;
  failedPhase: string;
  reason: string;
  mbzBytes: number | null;
  targetCourseId: number | null;
  sourceDeleted: boolean | null;
  link: string;
}

/** What a session archives, from where to where, as its input says (and its schedule resolved, with names). */
export interface ReportScope {
  sourceSiteId: string;
  sourceCategoryId: number;
  sourceCategoryName?: string;
  targetSiteId: string;
  targetCategoryId?: number;
  deleteSource: boolean;
}

/** One phase of one archived course (catalog times: each phase's end), for the report's pictures. */
export interface ReportPhase {
  courseId: number;
  phase: PhaseName;
  host: string;
  seconds: number;
  mb: number;
}

export interface SessionReport {
  session: string;
  vintage: string;
  execution: string;
  state: string;
  link: string;
  scope?: ReportScope;
  /** Why a session that stopped on an error (or was terminated) stopped, as its failure says. */
  stoppedReason?: string;
  phases: ReportPhase[];
  progress: SessionProgress | null;
  startedAt: string;
  closedAt: string | null;
  courses: ReportCourse[];
  generatedAt: string;
  /** The catalog ledger's last entry when the report was made: kept with the report, it shows a cut-off tail later. */
  ledgerHead?: { seq: number; hash: string };
}

/** Everything `report` writes: the session's counts, and each course's outcome, duration, failure and catalog facts. */
export async function sessionReport(
  client: Client,
  session: string,
  opts: { config: Pick<ArchiverConfig, 'temporal'>; catalogRows: CatalogRow[] },
): Promise<SessionReport> {
  const sessionInfo = await client.workflow.getHandle(sessionWorkflowId(session)).describe();
  const progress = await sessionProgress(client, sessionInfo);
  const failures = new Map((progress?.failed ?? []).map((f) => [f.courseId, f]));
  const rows = new Map(opts.catalogRows.map((r) => [r.sourceCourseId, r]));
  const courses: ReportCourse[] = [];
  for await (const info of client.workflow.list({
    query: `WorkflowType="archiveCourse" AND ArchiveSession="${session.replace(/"/g, '\\"')}"`,
  })) {
    const courseId = info.typedSearchAttributes.get(ArchiveCourseId) ?? Number(info.workflowId.split('/').at(-1));
    const row = rows.get(courseId);
    const f = failures.get(courseId);
    courses.push({
      courseId,
      shortname: row?.shortname ?? f?.shortname ?? '',
      fullname: row?.fullname ?? '',
      status: info.typedSearchAttributes.get(ArchiveStatus) ?? info.status.name.toLowerCase(),
      execution: info.status.name,
      startedAt: info.startTime.toISOString(),
      closedAt: info.closeTime?.toISOString() ?? null,
      seconds: info.closeTime ? (info.closeTime.getTime() - info.startTime.getTime()) / 1000 : null,
      failedPhase: f?.phase ?? '',
      reason: f ? `${f.errorType}: ${f.message}` : '',
      mbzBytes: row ? Number(row.mbzBytes) : null,
      targetCourseId: row?.targetCourseId ?? null,
      sourceDeleted: row?.sourceDeleted ?? null,
      link: workflowLink(opts.config, info.workflowId),
    });
  }
  // A course started again after its hold ran out has two executions: keep the latest.
  const latest = new Map<number, ReportCourse>();
  for (const c of courses) if (!latest.has(c.courseId) || latest.get(c.courseId)!.startedAt < c.startedAt) latest.set(c.courseId, c);
  // A course with no catalog row and no failure on record (skipped by the operator, say) is named by what its
  // prepare read, from its result.
  await Promise.all(
    [...latest.values()]
      .filter((c) => !c.shortname && c.execution === 'COMPLETED')
      .map(async (c) => {
        const result = (await client.workflow
          .getHandle(courseWorkflowId(session, c.courseId))
          .result()
          .catch(() => undefined)) as { facts?: { shortname?: string; fullname?: string } } | undefined;
        c.shortname = result?.facts?.shortname ?? '';
        c.fullname ||= result?.facts?.fullname ?? '';
      }),
  );
  const handle = client.workflow.getHandle(sessionWorkflowId(session));
  const scope = await sessionScope(client, sessionInfo.workflowId, sessionInfo.runId, sessionInfo.memo);
  const stoppedReason = ['FAILED', 'TERMINATED', 'TIMED_OUT'].includes(sessionInfo.status.name) ? await failureReason(handle) : undefined;
  return {
    session,
    vintage: sessionInfo.typedSearchAttributes.get(ArchiveVintage) ?? '',
    execution: sessionInfo.status.name,
    state: sessionInfo.typedSearchAttributes.get(ArchiveStatus) ?? '',
    link: workflowLink(opts.config, sessionInfo.workflowId),
    ...(scope ? { scope } : {}),
    ...(stoppedReason ? { stoppedReason } : {}),
    phases: scope ? reportPhases(opts.catalogRows, latest, scope) : [],
    progress,
    startedAt: progress?.startedAt ?? sessionInfo.startTime.toISOString(),
    closedAt: sessionInfo.closeTime?.toISOString() ?? null,
    courses: [...latest.values()].sort((a, b) => a.courseId - b.courseId),
    generatedAt: new Date().toISOString(),
  };
}

/** What the session archives: its input, from the first event of its current run (every run carries the same);
 * a scheduled session's category name from what it resolved (its memo). */
async function sessionScope(
  client: Client,
  workflowId: string,
  runId: string,
  memo?: Record<string, unknown>,
): Promise<ReportScope | undefined> {
  const page = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const payload = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return undefined;
  const input = defaultPayloadConverter.fromPayload<Partial<SessionInput> & { vintageRule?: unknown }>(payload);
  const resolved = (memo?.resolved ?? input.resolved) as { categoryId?: number; categoryName?: string } | undefined;
  if (!input.sourceSiteId || !input.targetSiteId) return undefined;
  return {
    sourceSiteId: input.sourceSiteId,
    sourceCategoryId: input.sourceCategoryId ?? resolved?.categoryId ?? 0,
    ...(resolved?.categoryName ? { sourceCategoryName: resolved.categoryName } : {}),
    targetSiteId: input.targetSiteId,
    ...(input.targetCategoryId !== undefined ? { targetCategoryId: input.targetCategoryId } : {}),
    deleteSource: Boolean(input.deleteSource),
  };
}

/** Each phase of each archived course from its catalog row (the end of each phase): how long, on which host. */
function reportPhases(rows: CatalogRow[], courses: Map<number, ReportCourse>, scope: ReportScope): ReportPhase[] {
  const hosts = phaseHosts(scope);
  const out: ReportPhase[] = [];
  for (const row of rows) {
    const course = courses.get(row.sourceCourseId);
    // The course's own start begins its first phase; a phase an earlier run did has no time (null).
    let from: number | null = course ? Date.parse(course.startedAt) : null;
    for (const p of PHASES) {
      const end = p.catalogTime ? row[p.catalogTime] : null;
      const at = end ? end.getTime() : null;
      if (at !== null && from !== null && at >= from)
        out.push({
          courseId: row.sourceCourseId,
          phase: p.name,
          host: hosts[p.name],
          seconds: (at - from) / 1000,
          mb: Number(row.mbzBytes) / 1e6,
        });
      from = at;
    }
  }
  return out;
}
