// The session's state and rules in one plain class: the sliding window of
// courses in flight (and the phase each is in), the counts, the failed list
// awaiting a decision, the retry and skip requests, the pause flag, the
// selection cursor and the finish rate. Its serializable state is exactly what
// continue-as-new carries; it is unit-testable without Temporal.
import { PHASE_NAMES, type PhaseName } from './phases';
import type { CourseFailure, CourseOutcome, CourseStatus } from './types';

const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** Failure messages are cut to this length: the failed list travels through continue-as-new. */
const MESSAGE_LIMIT = 500;

export interface RunningCourse {
  since: number;
  phase: PhaseName | 'starting';
}

export interface FailedCourse extends CourseFailure {
  courseId: number;
  at: string;
}

export interface SessionStateData {
  /** Courses with an id above this one are still to be selected. */
  cursor: number;
  selectionDone: boolean;
  total: number;
  inFlight: Record<string, RunningCourse>;
  counts: Record<CourseStatus, number>;
  /** Failed courses, each waiting (in its own workflow) for a retry or a skip. */
  failed: FailedCourse[];
  /** Failed courses the operator asked to retry, started again as the window allows. */
  retryQueue: number[];
  /** Courses not started yet that the operator asked to skip. */
  skipRequested: number[];
  paused: boolean;
  cancelling: boolean;
  startedAt: number;
  /** When only failed courses were left, waiting for decisions until decisionDeadline. */
  decisionDeadline?: number;
  /** [minute, courses finished in that minute], for the last hour only. */
  finishedPerMinute: [number, number][];
}

export type SessionActivity = 'running' | 'paused' | 'awaiting-decisions' | 'cancelling' | 'finished';

export interface SessionProgress {
  state: SessionActivity;
  total: number;
  done: number;
  running: number;
  pending: number;
  /** pending, running, succeeded, failed, skipped, cancelled. */
  counts: Record<CourseStatus, number>;
  /** Running courses per phase. */
  phases: Record<PhaseName, number>;
  runningCourses: ({ courseId: number } & RunningCourse)[];
  percent: number;
  coursesPerHour: number;
  /** Estimated end, from the rate over the last hour; null before any course finished. */
  eta: string | null;
  paused: boolean;
  failed: FailedCourse[];
  /** Failed courses the operator sent back, not restarted yet. */
  queuedForRetry: number[];
  /** Courses the operator skipped before they started, not reached yet. */
  toSkip: number[];
  /** Failed courses wait for `retry` or `skip` until then; null while other courses remain. */
  decisionDeadline: string | null;
  startedAt: string;
  /** The workflow's clock when this was computed (its last task). */
  asOf: string;
  finished: boolean;
}

export class SessionState {
  constructor(readonly data: SessionStateData) {}

  static initial(now: number): SessionState {
    return new SessionState({
      cursor: 0, selectionDone: false, total: 0, inFlight: {},
      counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 }, failed: [], retryQueue: [], skipRequested: [],
      paused: false, cancelling: false, startedAt: now, finishedPerMinute: [],
    });
  }

  get inFlightCount(): number {
    return Object.keys(this.data.inFlight).length;
  }

  get done(): number {
    const c = this.data.counts;
    return c.succeeded + c.failed + c.skipped + c.cancelled;
  }

  canStart(concurrency: number): boolean {
    return !this.data.paused && !this.data.cancelling && this.inFlightCount < concurrency;
  }

  /** Nothing runs, nothing is queued, and selection is over: only decisions on failed courses remain. */
  get settled(): boolean {
    return this.data.selectionDone && this.inFlightCount === 0 && this.data.retryQueue.length === 0;
  }

  /** Total is what is done, running or queued, plus what selection still has after the cursor. */
  selected(remainingAfterCursor: number): void {
    this.data.total = this.done + this.inFlightCount + this.data.retryQueue.length + remainingAfterCursor;
  }

  started(courseId: number, now: number): void {
    this.data.inFlight[courseId] = { since: now, phase: 'starting' };
    this.data.cursor = Math.max(this.data.cursor, courseId);
    this.data.decisionDeadline = undefined;
  }

  /** A course skipped before it started (operator's request). */
  takeSkipRequest(courseId: number, now: number): boolean {
    const i = this.data.skipRequested.indexOf(courseId);
    if (i < 0) return false;
    this.data.skipRequested.splice(i, 1);
    this.data.cursor = Math.max(this.data.cursor, courseId);
    this.count('skipped', now);
    return true;
  }

  phaseChanged(courseId: number, phase: PhaseName): void {
    const running = this.data.inFlight[courseId];
    if (running) running.phase = phase;
  }

  /** Idempotent: a duplicate or unknown report changes nothing. */
  finished(outcome: CourseOutcome, now: number): boolean {
    if (!(outcome.courseId in this.data.inFlight)) return false;
    delete this.data.inFlight[outcome.courseId];
    this.count(outcome.status, now);
    if (outcome.status === 'failed' && outcome.failure) {
      const { phase, errorType, message } = outcome.failure;
      this.data.failed.push({
        courseId: outcome.courseId, phase, errorType, at: new Date(now).toISOString(),
        message: message.length > MESSAGE_LIMIT ? `${message.slice(0, MESSAGE_LIMIT)}…` : message,
      });
    }
    return true;
  }

  /** Why these courses cannot be retried; empty when they all can. No argument: all failed ones. */
  retryProblems(courseIds?: number[]): string[] {
    if (!courseIds) return this.data.failed.length ? [] : ['no failed course to retry'];
    return courseIds.filter((id) => !this.isFailed(id)).map((id) => `course ${id} is not a failed course of this session (${this.describe(id)})`);
  }

  /** Moves failed courses to the retry queue; returns their ids. */
  retry(courseIds?: number[]): number[] {
    const ids = courseIds ?? this.data.failed.map((f) => f.courseId);
    for (const id of ids) {
      this.uncountFailed(id);
      this.data.retryQueue.push(id);
    }
    return ids;
  }

  /** Why these courses cannot be skipped; empty when they all can. */
  skipProblems(courseIds: number[]): string[] {
    const problems: string[] = [];
    for (const id of courseIds) {
      if (this.isFailed(id) || this.isPending(id)) continue;
      problems.push(`course ${id} cannot be skipped: it is ${this.describe(id)}`);
    }
    return problems;
  }

  /** Skips failed courses now and pending ones when selection reaches them; returns the failed ones skipped. */
  markSkipped(courseIds: number[], now: number): number[] {
    const failedSkipped: number[] = [];
    for (const id of courseIds) {
      if (this.isFailed(id)) {
        this.uncountFailed(id);
        this.count('skipped', now);
        failedSkipped.push(id);
      } else if (this.data.retryQueue.includes(id)) {
        this.data.retryQueue.splice(this.data.retryQueue.indexOf(id), 1);
        this.count('skipped', now);
      } else if (!this.data.skipRequested.includes(id)) {
        this.data.skipRequested.push(id);
      }
    }
    return failedSkipped;
  }

  progress(now: number): SessionProgress {
    const d = this.data;
    const finished = this.settled && (d.failed.length === 0 || (d.decisionDeadline !== undefined && now >= d.decisionDeadline));
    const phases = Object.fromEntries(PHASE_NAMES.map((p) => [p, 0])) as Record<PhaseName, number>;
    for (const c of Object.values(d.inFlight)) if (c.phase !== 'starting') phases[c.phase]++;
    const pending = Math.max(0, d.total - this.done - this.inFlightCount);
    const rate = this.coursesPerHour(now);
    const left = pending + this.inFlightCount;
    return {
      state: finished ? 'finished' : d.cancelling ? 'cancelling' : d.paused ? 'paused' : this.settled ? 'awaiting-decisions' : 'running',
      total: d.total,
      done: this.done,
      running: this.inFlightCount,
      pending,
      counts: { ...d.counts },
      phases,
      runningCourses: Object.entries(d.inFlight).map(([id, c]) => ({ courseId: Number(id), ...c })).sort((a, b) => a.since - b.since),
      percent: d.total ? Math.floor((1000 * this.done) / d.total) / 10 : finished ? 100 : 0,
      coursesPerHour: Math.round(rate * 10) / 10,
      eta: left === 0 ? null : rate > 0 ? new Date(now + (left / rate) * HOUR).toISOString() : null,
      paused: d.paused,
      failed: [...d.failed],
      queuedForRetry: [...d.retryQueue],
      toSkip: [...d.skipRequested],
      decisionDeadline: d.decisionDeadline !== undefined ? new Date(d.decisionDeadline).toISOString() : null,
      startedAt: new Date(d.startedAt).toISOString(),
      asOf: new Date(now).toISOString(),
      finished,
    };
  }

  /** Courses finished per hour over the last hour (or since the start, if the session is younger). */
  coursesPerHour(now: number): number {
    const recent = this.data.finishedPerMinute.filter(([m]) => m > Math.floor((now - HOUR) / MINUTE));
    const count = recent.reduce((n, [, c]) => n + c, 0);
    const span = Math.min(HOUR, Math.max(MINUTE, now - this.data.startedAt));
    return count / (span / HOUR);
  }

  private count(status: CourseStatus, now: number): void {
    this.data.counts[status]++;
    const minute = Math.floor(now / MINUTE);
    const buckets = this.data.finishedPerMinute.filter(([m]) => m > minute - 60);
    const last = buckets[buckets.length - 1];
    if (last?.[0] === minute) last[1]++;
    else buckets.push([minute, 1]);
    this.data.finishedPerMinute = buckets;
  }

  private uncountFailed(courseId: number): void {
    this.data.failed = this.data.failed.filter((f) => f.courseId !== courseId);
    this.data.counts.failed--;
  }

  private isFailed(courseId: number): boolean {
    return this.data.failed.some((f) => f.courseId === courseId);
  }

  /** Not started yet: beyond the cursor while selection goes on (ids are selected in order). */
  private isPending(courseId: number): boolean {
    return this.data.retryQueue.includes(courseId) || (!this.data.selectionDone && courseId > this.data.cursor && !(courseId in this.data.inFlight));
  }

  private describe(courseId: number): string {
    const running = this.data.inFlight[courseId];
    if (running) return `in flight (phase: ${running.phase})`;
    if (this.data.retryQueue.includes(courseId)) return 'queued for retry';
    if (this.data.skipRequested.includes(courseId)) return 'already marked to skip';
    return 'already finished, or not in this session';
  }
}
