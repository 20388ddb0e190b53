// The session's state and rules in one plain class: the sliding window of
// courses in flight, the counts, the failed list, the pause flag and the
// selection cursor. Its serializable state is what continue-as-new carries;
// it is unit-testable without Temporal.
import type { CourseFailure, CourseOutcome, CourseStatus } from './types';

export interface SessionStateData {
  /** Courses with an id above this one are still to be selected. */
  cursor: number;
  selectionDone: boolean;
  total: number;
  /** courseId -> start time (ms). */
  inFlight: Record<string, number>;
  counts: Record<CourseStatus, number>;
  failed: (CourseFailure & { courseId: number })[];
  paused: boolean;
  startedAt: number;
}

export interface SessionProgress {
  total: number;
  done: number;
  running: number;
  pending: number;
  counts: Record<CourseStatus, number>;
  percent: number;
  paused: boolean;
  failed: SessionStateData['failed'];
  startedAt: string;
  finished: boolean;
}

export class SessionState {
  constructor(readonly data: SessionStateData) {}

  static initial(now: number): SessionState {
    return new SessionState({
      cursor: 0, selectionDone: false, total: 0, inFlight: {},
      counts: { succeeded: 0, failed: 0, skipped: 0 }, failed: [], paused: false, startedAt: now,
    });
  }

  get inFlightCount(): number {
    return Object.keys(this.data.inFlight).length;
  }

  get done(): number {
    const c = this.data.counts;
    return c.succeeded + c.failed + c.skipped;
  }

  canStart(concurrency: number): boolean {
    return !this.data.paused && this.inFlightCount < concurrency;
  }

  started(courseId: number, now: number): void {
    this.data.inFlight[courseId] = now;
    this.data.cursor = Math.max(this.data.cursor, courseId);
  }

  /** Idempotent: a duplicate or unknown report changes nothing. */
  finished(outcome: CourseOutcome): boolean {
    if (!(outcome.courseId in this.data.inFlight)) return false;
    delete this.data.inFlight[outcome.courseId];
    this.data.counts[outcome.status]++;
    if (outcome.status === 'failed' && outcome.failure) this.data.failed.push({ courseId: outcome.courseId, ...outcome.failure });
    return true;
  }

  progress(): SessionProgress {
    const d = this.data;
    const finished = d.selectionDone && this.inFlightCount === 0;
    return {
      total: d.total,
      done: this.done,
      running: this.inFlightCount,
      pending: Math.max(0, d.total - this.done - this.inFlightCount),
      counts: { ...d.counts },
      percent: d.total ? Math.round((1000 * this.done) / d.total) / 10 : finished ? 100 : 0,
      paused: d.paused,
      failed: [...d.failed],
      startedAt: new Date(d.startedAt).toISOString(),
      finished,
    };
  }
}
