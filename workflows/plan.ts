// What a session would do, without doing it: the session's own decision
// rules (SessionState.nextStep) played on a simulated clock, each course
// taking its predicted time (of open time: a course held by a closed window
// resumes at the next opening). Pure: unit-testable, and run by the
// planSession workflow once selection and the catalog have been read.
import { phaseCosts, phaseHosts } from './prediction';
import { SessionState, type SessionPlan } from './session-state';
import type { CourseSelection, ExcludedCourse, SelectedCourse, SessionInput } from './types';
import { WindowCalendar } from './windows';
import { DEFAULT_SAFETY_MARGIN } from '../contract';

/** Pages read ahead, as the session does. */
export const PLAN_PAGE_SIZE = 100;

/** The session's planning rules, from its input: used by the session and by plans alike. */
export function sessionPlanOf(
  input: Pick<SessionInput, 'windows' | 'clock' | 'prediction' | 'sourceSiteId' | 'targetSiteId'>,
  startedAt: number,
  pageSize = PLAN_PAGE_SIZE,
): SessionPlan {
  return {
    calendar: new WindowCalendar(input.windows, input.clock, startedAt),
    costs: phaseCosts(input.prediction?.phaseCosts),
    hosts: phaseHosts(input),
    safetyMargin: input.prediction?.safetyMargin ?? DEFAULT_SAFETY_MARGIN,
    poolLimit: 2 * pageSize,
  };
}

export interface SimulatedCourse {
  courseId: number;
  predictedSeconds: number;
  start: number;
  end: number;
  /** Longer than any whole window: started at the opening of the longest one, runs into closed hours. */
  overflows: boolean;
}

export interface Simulation {
  courses: SimulatedCourse[];
  start: number;
  end: number;
  /** Windows in which at least one course runs (0 without windows). */
  windowsUsed: number;
}

/** Plays the session's decisions over `courses` (in id order, as selection gives them). */
export function simulateSession(courses: SelectedCourse[], plan: SessionPlan, concurrency: number, start: number): Simulation {
  const state = SessionState.initial(start, { concurrency, plan });
  const { calendar } = plan;
  const ends = new Map<number, number>();
  const result: SimulatedCourse[] = [];
  let fed = 0;
  let now = start;
  const feed = () => {
    const page = courses.slice(fed, fed + PLAN_PAGE_SIZE);
    fed += page.length;
    state.selected(
      { courses: page, remaining: courses.length - fed + page.length, nextAfter: page.at(-1)?.courseId ?? 0, done: fed >= courses.length },
      now,
    );
  };
  for (let guard = 0; guard < 20 * courses.length + 1000; guard++) {
    let waitUntil = Infinity;
    while (state.canStart()) {
      const next = state.nextStep(now);
      if (next.kind === 'select') {
        feed();
        continue;
      }
      if (next.kind === 'wait') {
        waitUntil = next.until;
        break;
      }
      const predictedSeconds = next.predictedSeconds ?? state.predictor.courseSeconds(next.course);
      state.started(next.course, now, next);
      // Held at phase boundaries while closed, a course uses open time only.
      const end = calendar.always ? now + predictedSeconds * 1000 : calendar.shiftByOpenTime(now, predictedSeconds * 1000);
      ends.set(next.course.courseId, end);
      result.push({
        courseId: next.course.courseId,
        predictedSeconds: Math.round(predictedSeconds),
        start: now,
        end,
        overflows: next.overflows,
      });
    }
    if (!ends.size && !state.data.pool.length && state.data.selectionDone) break;
    const nextEnd = Math.min(...ends.values());
    now = Math.min(nextEnd, waitUntil);
    if (!Number.isFinite(now)) throw new Error('the plan cannot progress: no window ever opens for the courses left');
    for (const [courseId, end] of ends) {
      if (end > now) continue;
      ends.delete(courseId);
      state.finished({ courseId, status: 'succeeded' }, end);
    }
  }
  const end = result.reduce((m, c) => Math.max(m, c.end), start);
  const windowsUsed = calendar.always
    ? 0
    : calendar.periods(start, end).filter(([a, b]) => result.some((c) => c.start < b && c.end > a)).length;
  return { courses: result, start, end, windowsUsed };
}

/** A course as the plan lists it. */
export interface PlannedCourse {
  courseId: number;
  shortname: string;
  categoryId: number;
  bytes: number;
  activities: number;
  action: 'archive' | 'already-archived' | 'excluded';
  /** Why it is left out (excluded, already archived). */
  reason?: string;
  predictedSeconds?: number;
  plannedStart?: string;
  plannedEnd?: string;
  overflows?: boolean;
}

export interface PlanReport {
  criteria: {
    sourceSiteId: string;
    categoryIds: number[];
    includeSubcategories: boolean;
    courseIds: number[];
    excludeShortnames: string[];
    excludeIdnumbers: string[];
    targetSiteId: string;
    targetCategoryId: number;
    concurrency: number;
    windows: string;
  };
  courses: PlannedCourse[];
  totals: { selected: number; toArchive: number; alreadyArchived: number; excluded: number; bytes: number };
  prediction: {
    start: string;
    end: string;
    /** Wall-clock hours from start to end. */
    /** To a tenth of an hour (JSON readers); the text plan shows start to end exactly. */
    elapsedHours: number;
    windowsNeeded: number;
    /** Courses longer than any whole window. */
    oversized: number[];
  };
}

export interface PlanInput extends Omit<SessionInput, 'session' | 'vintage'> {
  /** When the session would start (ISO); default: now. */
  startAt?: string;
}

/** Builds the report from what selection and the catalog said. */
export function buildPlan(
  input: PlanInput,
  start: number,
  found: { courses: SelectedCourse[]; excluded: ExcludedCourse[]; archived: Record<number, string> },
): PlanReport {
  const toArchive = found.courses.filter((c) => !found.archived[c.courseId]);
  const sim = simulateSession(toArchive, sessionPlanOf(input, start), input.concurrency, start);
  const simulated = new Map(sim.courses.map((c) => [c.courseId, c]));
  const iso = (t: number) => new Date(t).toISOString();
  const courses: PlannedCourse[] = [
    ...found.courses.map((c): PlannedCourse => {
      const s = simulated.get(c.courseId);
      const base = {
        courseId: c.courseId,
        shortname: c.shortname ?? '',
        categoryId: c.categoryId ?? 0,
        bytes: c.bytes,
        activities: c.activities,
      };
      if (found.archived[c.courseId]) return { ...base, action: 'already-archived', reason: found.archived[c.courseId] };
      return {
        ...base,
        action: 'archive',
        predictedSeconds: s?.predictedSeconds,
        plannedStart: s && iso(s.start),
        plannedEnd: s && iso(s.end),
        ...(s?.overflows ? { overflows: true } : {}),
      };
    }),
    ...found.excluded.map((e): PlannedCourse => ({
      courseId: e.courseId,
      shortname: e.shortname,
      categoryId: 0,
      bytes: 0,
      activities: 0,
      action: 'excluded',
      reason: e.reason,
    })),
  ].sort((a, b) => a.courseId - b.courseId);
  const sel: CourseSelection = input.selection ?? {};
  return {
    criteria: {
      sourceSiteId: input.sourceSiteId,
      categoryIds: [input.sourceCategoryId, ...(sel.moreCategoryIds ?? [])],
      includeSubcategories: input.includeSubcategories,
      courseIds: sel.courseIds ?? [],
      excludeShortnames: sel.excludeShortnames ?? [],
      excludeIdnumbers: sel.excludeIdnumbers ?? [],
      targetSiteId: input.targetSiteId,
      targetCategoryId: input.targetCategoryId,
      concurrency: input.concurrency,
      windows: input.windows
        ? `${input.windows.windows.map((w) => `${w.days} ${w.from}-${w.to}`).join(', ')} (${input.windows.timezone})`
        : 'any time',
    },
    courses,
    totals: {
      selected: found.courses.length,
      toArchive: toArchive.length,
      alreadyArchived: found.courses.length - toArchive.length,
      excluded: found.excluded.length,
      bytes: toArchive.reduce((n, c) => n + c.bytes, 0),
    },
    prediction: {
      start: iso(sim.start),
      end: iso(sim.end),
      elapsedHours: Math.round(((sim.end - sim.start) / 3_600_000) * 10) / 10,
      windowsNeeded: sim.windowsUsed,
      oversized: sim.courses.filter((c) => c.overflows).map((c) => c.courseId),
    },
  };
}
