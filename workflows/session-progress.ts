// What a session shows: its progress read model, computed from the session's
// state on demand (the `progress` query, the final result, notifications).
// The rules that change the state are SessionState's.
import { HOUR, MINUTE } from '../contract';
import { PHASE_NAMES, type PhaseName } from './phases';
import type { SessionState, FailedCourse, RunningCourse } from './session-state';
import type { CourseStatus, SiteRelease } from './types';

export type SessionActivity = 'running' | 'waiting-for-window' | 'paused' | 'awaiting-decisions' | 'cancelling' | 'finished';

export interface WindowProgress {
  open: boolean;
  /** When the current window closes (null: it never does), or when the next one opens. */
  closesAt: string | null;
  opensAt: string | null;
  /** The same, as the operator's wall-clock time in the windows' time zone. */
  closesAtLocal: string | null;
  opensAtLocal: string | null;
  /** The windows' clock at `asOf`, wall-clock (differs from real time only with a rehearsal clock). */
  localNow: string;
  /** To read the windows' clock later than `asOf` (the session may be asleep): its zone, its time at `asOf`, its speed. */
  timezone: string;
  clockAtAsOf: number;
  speed: number;
}

export interface SessionProgress {
  state: SessionActivity;
  /** One line on what the session is doing now, for people. */
  note: string;
  total: number;
  /** Courses of the selected categories left out by exclusion patterns (not in total). */
  excluded: number;
  done: number;
  running: number;
  pending: number;
  /** pending, running, succeeded, failed, skipped, cancelled. */
  counts: Record<CourseStatus, number>;
  /** Running courses held between two phases (closed window or drain). Per phase, the others are counted
   * from their ArchivePhase search attribute (countPhases): courses report no phase to their session. */
  waiting: number;
  /** Longest running first; `since` when it started, ISO. */
  runningCourses: ({ courseId: number } & Omit<RunningCourse, 'since'> & { since: string })[];
  percent: number;
  /** Per hour of open window time (all hours without windows). */
  coursesPerHour: number;
  /** Estimated end, from that rate and the windows to come; null before any course finished. */
  eta: string | null;
  concurrency: number;
  paused: boolean;
  draining: boolean;
  /** null when the session has no windows. */
  window: WindowProgress | null;
  /** Courses not started because they did not fit in what was left of the window. */
  deferred: number;
  /** Courses longer than any whole window: started at the opening of the longest one, and they will overflow. */
  oversized: { courseId: number; predictedSeconds: number; running: boolean }[];
  /** Per phase and host: measured over default-predicted durations, and on how many courses. */
  prediction: { phase: PhaseName; host: string; factor: number; samples: number }[];
  /** The source's and target's Moodle releases. */
  sites: SiteRelease[];
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

/** Running courses per phase: the session's running courses not held, by the phase each one's search
 * attribute shows (`phaseOf`). A course the attribute does not show yet is left out. */
export function countPhases(progress: Pick<SessionProgress, 'runningCourses'>, phaseOf: (courseId: number) => string | undefined) {
  const phases = Object.fromEntries(PHASE_NAMES.map((p) => [p, 0])) as Record<PhaseName, number>;
  for (const c of progress.runningCourses) {
    // A course visibility does not list yet has just started: it is in prepare. So the column adds up to the
    // running courses that are not held, as the status counts them.
    const phase = phaseOf(c.courseId) ?? 'prepare';
    if (c.phase !== 'waiting') phases[phase in phases ? (phase as PhaseName) : 'prepare']++;
  }
  return phases;
}

/** Where the session stands now, for people and tools. */
export function sessionProgress(s: SessionState, now: number): SessionProgress {
  const d = s.data;
  const { calendar } = s.plan;
  const finished = s.settled && (d.failed.length === 0 || (d.decisionDeadline !== undefined && now >= d.decisionDeadline));
  const waiting = Object.values(d.inFlight).filter((c) => c.phase === 'waiting').length;
  const pending = Math.max(0, d.total - s.done - s.inFlightCount);
  const rate = coursesPerHour(s, now);
  const left = pending + s.inFlightCount;
  const waitingForWindow =
    (!calendar.always && !calendar.at(now).open) || (d.waiting && (d.waiting.reason === 'window-closed' || s.inFlightCount === 0));
  const state: SessionActivity = finished
    ? 'finished'
    : d.cancelling
      ? 'cancelling'
      : d.paused
        ? 'paused'
        : s.settled
          ? 'awaiting-decisions'
          : waitingForWindow
            ? 'waiting-for-window'
            : 'running';
  const overflowing = Object.values(d.inFlight)
    .filter((c) => c.overflows)
    .map((c) => ({ courseId: c.courseId, predictedSeconds: c.predictedSeconds ?? 0, running: true }));
  return {
    state,
    note: note(s, state, now),
    total: d.total,
    excluded: d.excluded ?? 0,
    done: s.done,
    running: s.inFlightCount,
    pending,
    counts: { ...d.counts },
    waiting,
    runningCourses: Object.values(d.inFlight)
      .sort((a, b) => a.since - b.since)
      .map((c) => ({ ...c, since: new Date(c.since).toISOString() })),
    percent: d.total ? Math.floor((1000 * s.done) / d.total) / 10 : finished ? 100 : 0,
    coursesPerHour: Math.round(rate * 10) / 10,
    eta: left === 0 || rate <= 0 ? null : new Date(calendar.shiftByOpenTime(now, (left / rate) * HOUR)).toISOString(),
    concurrency: d.concurrency,
    paused: d.paused,
    draining: d.draining,
    window: windowProgress(s, now),
    deferred: d.deferred,
    oversized: [...overflowing, ...d.oversized.filter((o) => s.inPool(o.courseId)).map((o) => ({ ...o, running: false }))],
    prediction: s.predictor.describe(),
    sites: [...d.sites],
    failed: [...d.failed],
    queuedForRetry: d.pool.filter((c) => c.retryFrom).map((c) => c.courseId),
    toSkip: [...d.skipRequested],
    decisionDeadline: d.decisionDeadline !== undefined ? new Date(d.decisionDeadline).toISOString() : null,
    startedAt: new Date(d.startedAt).toISOString(),
    asOf: new Date(now).toISOString(),
    finished,
  };
}

/** Courses finished per hour of open time, over the last hour of it (or since the start, if shorter). */
export function coursesPerHour(s: SessionState, now: number): number {
  const cutoff = s.plan.calendar.shiftByOpenTime(now, -HOUR);
  const recent = s.data.finishedPerMinute.filter(([m]) => m > Math.floor(cutoff / MINUTE));
  const count = recent.reduce((n, [, c]) => n + c, 0);
  const span = Math.min(HOUR, Math.max(MINUTE, s.plan.calendar.openMsBetween(Math.max(cutoff, s.data.startedAt), now)));
  return count / (span / HOUR);
}

function windowProgress(s: SessionState, now: number): WindowProgress | null {
  const { calendar } = s.plan;
  if (calendar.always) return null;
  const w = calendar.at(now);
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  const local = (t: number | null) => (t === null ? null : calendar.local(t));
  const opensAt = calendar.nextOpening(now);
  return {
    open: w.open,
    closesAt: iso(w.closesAt),
    opensAt: iso(opensAt),
    closesAtLocal: local(w.closesAt),
    opensAtLocal: local(opensAt),
    localNow: calendar.local(now),
    timezone: calendar.spec!.timezone,
    clockAtAsOf: calendar.toVirtual(now),
    speed: calendar.speed,
  };
}

function note(s: SessionState, state: SessionActivity, now: number): string {
  const d = s.data;
  const { calendar } = s.plan;
  const w = calendar.always ? undefined : calendar.at(now);
  const next = calendar.always ? null : calendar.nextOpening(now);
  switch (state) {
    case 'waiting-for-window': {
      const opens = next === null ? '' : `, opens at ${calendar.local(next)}`;
      if (w && !w.open) return `waiting for window${opens}`;
      return `${d.deferred} course(s) deferred: none fits in what is left of this window; waiting for the next window${opens}`;
    }
    case 'paused':
      return d.draining
        ? 'paused with drain: running courses hold at their next phase boundary'
        : 'paused: running courses finish, none starts';
    case 'cancelling':
      return 'cancelling: waiting for running courses to stop';
    case 'awaiting-decisions':
      return `${d.failed.length} failed course(s) wait for retry or skip`;
    case 'finished':
      return 'finished';
    default: {
      const parts = [`${s.inFlightCount} of ${d.concurrency} slots busy`];
      if (w?.open && w.closesAt !== null) parts.push(`window closes ${calendar.local(w.closesAt)}`);
      if (d.deferred) parts.push(`${d.deferred} deferred to the next window`);
      return parts.join('; ');
    }
  }
}

/** Where a session stands, for the Web UI's "current details" (Temporal markdown): what it archives, its counts,
 * its window and ETA. Each run sets it (a continued run keeps no static summary). */
export function sessionDetails(
  what: {
    vintage: string;
    sourceSiteId: string;
    sourceCategoryId: number;
    targetSiteId: string;
    targetCategoryId: number;
    deleteSource: boolean;
  },
  p: SessionProgress,
  status: string,
): string {
  const c = p.counts;
  const w = p.window;
  return [
    `**${status}** · ${p.done}/${p.total} done (${p.percent}%) · ${p.running} running · ${c.succeeded} archived, ${c.failed} failed, ${c.skipped} skipped`,
    `vintage ${what.vintage}: ${what.sourceSiteId} category ${what.sourceCategoryId} → ${what.targetSiteId} category ${what.targetCategoryId} · concurrency ${p.concurrency}${what.deleteSource ? ' · sources deleted once verified' : ''}${p.paused ? ' · paused' : ''}`,
    ...(w
      ? [w.open ? `window open${w.closesAtLocal ? `, closes ${w.closesAtLocal}` : ''}` : `window closed, opens ${w.opensAtLocal}`]
      : []),
    ...(p.eta ? [`ETA ${p.eta}`] : []),
  ].join('  \n');
}
