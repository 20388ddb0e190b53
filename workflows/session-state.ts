// The session's state and rules in one plain class: the pool of courses
// selected but not started (failed ones sent back for retry included), the
// sliding window of courses in flight (and the phase each is in), what to
// start next given the allowed windows and the predicted durations, the
// counts, the failed list awaiting a decision, the skip requests, the pause
// flag, the live concurrency, the selection cursor and the finish rate. Its
// serializable state is exactly what continue-as-new carries; it is
// unit-testable without Temporal.
import { PHASE_NAMES, type PhaseName } from './phases';
import { DEFAULT_PHASE_COSTS, DurationPredictor, type PhaseCosts, type PhaseMeasure } from './prediction';
import type { CourseFailure, CourseOutcome, CoursePage, CourseStatus, SelectedCourse, SiteRelease } from './types';
import { WindowCalendar } from './windows';
import { DEFAULT_SAFETY_MARGIN, HOUR, MINUTE } from '../contract';

/** Failure messages are cut to this length: the failed list travels through continue-as-new. */
const MESSAGE_LIMIT = 500;

/** A course waiting to start: selected, or failed and sent back (it resumes at `retryFrom`). */
export interface PoolCourse extends SelectedCourse {
  retryFrom?: PhaseName;
}

export interface RunningCourse extends SelectedCourse {
  since: number;
  /** 'waiting': between two phases, held by a closed window or a drain. */
  phase: PhaseName | 'starting' | 'waiting';
  /** Predicted seconds at start (sessions with windows). */
  predictedSeconds?: number;
  /** Started although it is longer than any whole window: it will run into closed hours. */
  overflows?: boolean;
}

export interface FailedCourse extends CourseFailure, SelectedCourse {
  at: string;
}

export interface SessionStateData {
  /** Courses with an id above this one are still to be selected. */
  cursor: number;
  selectionDone: boolean;
  total: number;
  /** Courses of the selected categories left out by exclusion patterns. */
  excluded?: number;
  /** Selected (or sent back for retry) and not started yet. */
  pool: PoolCourse[];
  inFlight: Record<string, RunningCourse>;
  counts: Record<CourseStatus, number>;
  /** Failed courses, each waiting (in its own workflow) for a retry or a skip. */
  failed: FailedCourse[];
  /** Courses beyond the cursor that the operator asked to skip. */
  skipRequested: number[];
  concurrency: number;
  paused: boolean;
  /** Paused with --drain: running courses hold at their next phase boundary. */
  draining: boolean;
  cancelling: boolean;
  startedAt: number;
  /** What the session waits for while it starts nothing (set by the workflow loop). */
  waiting?: { reason: 'window-closed' | 'nothing-fits'; until: number };
  /** Pool courses too long for any whole window, as of the last decision. */
  oversized: { courseId: number; predictedSeconds: number }[];
  /** Pool courses that did not fit in what was left of the window at the last decision. */
  deferred: number;
  /** Measured durations per phase and host, for the predictor. */
  measured: Record<string, PhaseMeasure>;
  /** The source's and target's Moodle releases, checked at the start. */
  sites: SiteRelease[];
  /** When only failed courses were left, waiting for decisions until decisionDeadline. */
  decisionDeadline?: number;
  /** [minute, courses finished in that minute], for the last hour of open time only. */
  finishedPerMinute: [number, number][];
}

/** What the session does next, once a slot is free. */
export type NextStep =
  | { kind: 'start'; course: PoolCourse; predictedSeconds?: number; overflows: boolean }
  | { kind: 'select' }
  | { kind: 'wait'; reason: 'window-closed' | 'nothing-fits'; until: number };

/** How a session plans: its windows, its cost model and margin, how many courses it keeps in its pool. */
export interface SessionPlan {
  calendar: WindowCalendar;
  costs: PhaseCosts;
  hosts: Record<PhaseName, string>;
  safetyMargin: number;
  /** Pages are read ahead, looking for courses that fit, until the pool holds this many. */
  poolLimit: number;
}

/** An always-open plan with the default costs: sessions without windows, and unit tests. */
export function defaultPlan(startedAt: number): SessionPlan {
  return {
    calendar: new WindowCalendar(undefined, undefined, startedAt),
    costs: DEFAULT_PHASE_COSTS,
    hosts: Object.fromEntries(PHASE_NAMES.map((p) => [p, 'main'])) as Record<PhaseName, string>,
    safetyMargin: DEFAULT_SAFETY_MARGIN,
    poolLimit: 200,
  };
}

export class SessionState {
  readonly predictor: DurationPredictor;
  readonly plan: SessionPlan;
  /** Bumped by anything that may change what to start next: the session's timed waits end early on it. Not carried. */
  changes = 0;

  constructor(
    readonly data: SessionStateData,
    plan?: SessionPlan,
  ) {
    this.plan = plan ?? defaultPlan(data.startedAt);
    this.predictor = new DurationPredictor(this.plan.costs, data.measured, this.plan.hosts);
  }

  static initialData(now: number, concurrency: number): SessionStateData {
    return {
      cursor: 0,
      selectionDone: false,
      total: 0,
      pool: [],
      inFlight: {},
      counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
      failed: [],
      skipRequested: [],
      concurrency,
      paused: false,
      draining: false,
      cancelling: false,
      startedAt: now,
      oversized: [],
      deferred: 0,
      measured: {},
      sites: [],
      finishedPerMinute: [],
    };
  }

  static initial(now: number, opts: { concurrency?: number; plan?: SessionPlan } = {}): SessionState {
    return new SessionState(SessionState.initialData(now, opts.concurrency ?? 1), opts.plan);
  }

  get inFlightCount(): number {
    return Object.keys(this.data.inFlight).length;
  }

  get done(): number {
    const c = this.data.counts;
    return c.succeeded + c.failed + c.skipped + c.cancelled;
  }

  canStart(): boolean {
    return !this.data.paused && !this.data.cancelling && this.inFlightCount < this.data.concurrency;
  }

  /** Nothing runs, nothing waits to start, and selection is over: only decisions on failed courses remain. */
  get settled(): boolean {
    return this.data.selectionDone && this.inFlightCount === 0 && this.data.pool.length === 0;
  }

  /** A page of selection joins the pool; courses the operator skipped in advance are counted as skipped. */
  selected(page: CoursePage, now: number): void {
    for (const c of page.courses) {
      if (this.takeSkipRequest(c.courseId, now)) continue;
      this.data.pool.push({
        courseId: c.courseId,
        bytes: c.bytes,
        activities: c.activities,
        ...(c.root !== undefined ? { root: c.root } : {}),
      });
    }
    this.data.cursor = Math.max(this.data.cursor, page.nextAfter);
    this.data.selectionDone = page.done;
    this.data.excluded = page.excluded ?? 0;
    // Done, running and waiting to start, plus what selection still has after this page.
    this.data.total = this.done + this.inFlightCount + this.data.pool.length + (page.remaining - page.courses.length);
  }

  /**
   * What to do with a free slot. Without windows: the first pool course.
   * With windows: nothing while closed; at the opening of the longest window,
   * first the courses too long for any window (they overflow least there);
   * else the longest course whose prediction (with the margin) fits in what
   * is left; else more pages while the pool has room; else wait for the
   * window to close.
   */
  nextStep(now: number): NextStep {
    const { calendar } = this.plan;
    const pool = this.data.pool;
    if (!pool.length) return this.data.selectionDone ? { kind: 'wait', reason: 'nothing-fits', until: Infinity } : { kind: 'select' };
    const w = calendar.at(now);
    if (!w.open) return { kind: 'wait', reason: 'window-closed', until: w.opensAt };
    if (calendar.always) return { kind: 'start', course: pool[0], overflows: false };
    const left = w.closesAt === null ? Infinity : w.closesAt - now;
    const longest = calendar.longestWindowMs(now);
    const margin = 1 + this.plan.safetyMargin;
    const predicted = pool.map((c) => this.predictor.courseSeconds(c, c.retryFrom));
    const needs = predicted.map((s) => s * margin * 1000);
    const longestOf = (indexes: number[]) => indexes.reduce((best, i) => (predicted[i] > predicted[best] ? i : best), indexes[0]);
    const fitting = pool.map((_, i) => i).filter((i) => needs[i] <= left);
    const oversized = pool.map((_, i) => i).filter((i) => needs[i] > longest);
    this.data.oversized = oversized.map((i) => ({ courseId: pool[i].courseId, predictedSeconds: Math.round(predicted[i]) }));
    this.data.deferred = pool.length - fitting.length;
    const windowMs = w.closesAt === null ? Infinity : w.closesAt - w.openedAt;
    const atLongestOpening = windowMs >= longest * 0.999 && now - w.openedAt <= openingGrace(windowMs);
    if (oversized.length && atLongestOpening) {
      const i = longestOf(oversized);
      return { kind: 'start', course: pool[i], predictedSeconds: predicted[i], overflows: true };
    }
    if (fitting.length) {
      const i = longestOf(fitting);
      return { kind: 'start', course: pool[i], predictedSeconds: predicted[i], overflows: false };
    }
    if (!this.data.selectionDone && pool.length < this.plan.poolLimit) return { kind: 'select' };
    return { kind: 'wait', reason: 'nothing-fits', until: w.closesAt ?? Infinity };
  }

  started(course: PoolCourse, now: number, prediction: { predictedSeconds?: number; overflows?: boolean } = {}): void {
    this.data.pool = this.data.pool.filter((c) => c.courseId !== course.courseId);
    this.data.inFlight[course.courseId] = {
      courseId: course.courseId,
      bytes: course.bytes,
      activities: course.activities,
      since: now,
      phase: 'starting',
      ...(course.root !== undefined ? { root: course.root } : {}),
      ...(prediction.predictedSeconds !== undefined ? { predictedSeconds: Math.round(prediction.predictedSeconds) } : {}),
      ...(prediction.overflows ? { overflows: true } : {}),
    };
    this.data.cursor = Math.max(this.data.cursor, course.courseId);
    this.data.decisionDeadline = undefined;
    this.data.waiting = undefined;
  }

  /**
   * Its start was cancelled before the child existed (the session's cancel landed in the task that started it):
   * it is not running, and no report will come from it. Back to the pool.
   */
  notStarted(courseId: number): void {
    const running = this.data.inFlight[courseId];
    if (!running) return;
    delete this.data.inFlight[courseId];
    const { bytes, activities, root } = running;
    this.data.pool.unshift({ courseId, bytes, activities, ...(root !== undefined ? { root } : {}) });
  }

  phaseChanged(courseId: number, phase: RunningCourse['phase']): void {
    const running = this.data.inFlight[courseId];
    if (running) running.phase = phase;
  }

  /** Idempotent: a duplicate or unknown report changes nothing. */
  finished(outcome: CourseOutcome, now: number): boolean {
    const running = this.data.inFlight[outcome.courseId];
    if (!running) return false;
    this.changes++;
    delete this.data.inFlight[outcome.courseId];
    this.count(outcome.status, now);
    if (outcome.phaseSeconds) this.predictor.record(running, outcome.phaseSeconds);
    if (outcome.status === 'failed' && outcome.failure) {
      const { phase, errorType, message, shortname } = outcome.failure;
      this.data.failed.push({
        courseId: outcome.courseId,
        ...(shortname ? { shortname } : {}),
        bytes: running.bytes,
        activities: running.activities,
        phase,
        errorType,
        ...(running.root !== undefined ? { root: running.root } : {}),
        at: new Date(now).toISOString(),
        message: message.length > MESSAGE_LIMIT ? `${message.slice(0, MESSAGE_LIMIT)}…` : message,
      });
    }
    return true;
  }

  /** Starts nothing new; with drain, running courses hold too. True when they must be told to hold. */
  pause(drain = false): boolean {
    this.data.paused = true;
    if (!drain || this.data.draining) return false;
    this.data.draining = true;
    return true;
  }

  /** Starts courses again. True when drained courses must be told to go on. */
  resume(): boolean {
    this.data.paused = false;
    this.changes++;
    const wasDraining = this.data.draining;
    this.data.draining = false;
    return wasDraining;
  }

  /** Courses at once from now on (checked by concurrencyProblems first); returns the previous value. */
  setConcurrency(n: number): number {
    const previous = this.data.concurrency;
    this.data.concurrency = n;
    this.changes++;
    return previous;
  }

  /** Why these courses cannot be retried; empty when they all can. No argument: all failed ones. */
  retryProblems(courseIds?: number[]): string[] {
    if (!courseIds) return this.data.failed.length ? [] : ['no failed course to retry'];
    return courseIds
      .filter((id) => !this.isFailed(id))
      .map((id) => `course ${id} is not a failed course of this session (${this.describe(id)})`);
  }

  /** Sends failed courses back to the front of the pool; returns their ids. */
  retry(courseIds?: number[]): number[] {
    this.changes++;
    const ids = courseIds ?? this.data.failed.map((f) => f.courseId);
    const back: PoolCourse[] = [];
    for (const id of ids) {
      const f = this.data.failed.find((x) => x.courseId === id)!;
      this.uncountFailed(id);
      back.push({
        courseId: id,
        bytes: f.bytes,
        activities: f.activities,
        retryFrom: f.phase as PhaseName,
        ...(f.root !== undefined ? { root: f.root } : {}),
      });
    }
    this.data.pool.unshift(...back);
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

  /** Skips failed and waiting courses now, later ones when selection reaches them; returns the failed ones skipped. */
  markSkipped(courseIds: number[], now: number): number[] {
    this.changes++;
    const failedSkipped: number[] = [];
    for (const id of courseIds) {
      if (this.isFailed(id)) {
        this.uncountFailed(id);
        this.count('skipped', now);
        failedSkipped.push(id);
      } else if (this.inPool(id)) {
        this.data.pool = this.data.pool.filter((c) => c.courseId !== id);
        this.count('skipped', now);
      } else if (!this.data.skipRequested.includes(id)) {
        this.data.skipRequested.push(id);
      }
    }
    return failedSkipped;
  }

  private takeSkipRequest(courseId: number, now: number): boolean {
    const i = this.data.skipRequested.indexOf(courseId);
    if (i < 0) return false;
    this.data.skipRequested.splice(i, 1);
    this.count('skipped', now);
    return true;
  }

  private count(status: CourseStatus, now: number): void {
    this.data.counts[status]++;
    const minute = Math.floor(now / MINUTE);
    const oldest = Math.floor(this.plan.calendar.shiftByOpenTime(now, -HOUR) / MINUTE);
    const buckets = this.data.finishedPerMinute.filter(([m]) => m > oldest);
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

  inPool(courseId: number): boolean {
    return this.data.pool.some((c) => c.courseId === courseId);
  }

  /** Not started yet: in the pool, or beyond the cursor while selection goes on (ids are selected in order). */
  private isPending(courseId: number): boolean {
    return this.inPool(courseId) || (!this.data.selectionDone && courseId > this.data.cursor && !(courseId in this.data.inFlight));
  }

  private describe(courseId: number): string {
    const running = this.data.inFlight[courseId];
    if (running) return `in flight (phase: ${running.phase})`;
    if (this.data.pool.some((c) => c.courseId === courseId && c.retryFrom)) return 'queued for retry';
    if (this.data.skipRequested.includes(courseId)) return 'already marked to skip';
    return 'already finished, or not in this session';
  }
}

/** How late after a window opens a course too long for any window may still start: "at the opening". */
function openingGrace(windowMs: number): number {
  return Math.min(30 * MINUTE, Math.max(5_000, windowMs * 0.1));
}
