// The allowed windows and what a session starts in them: pure logic, no servers. Times are written as UTC
// instants next to the Paris wall-clock time they stand for.
import { describe, expect, it } from 'vitest';
import { openPeriods, parseDays, WindowCalendar, windowSpecProblems, type WindowSpec } from '../workflows/windows';
import { PHASE_NAMES } from '../workflows/phases';
import { DurationPredictor, phaseCosts, phaseHosts } from '../workflows/prediction';
import { sessionProgress } from '../workflows/session-progress';
import { defaultPlan, SessionState, type SessionPlan } from '../workflows/session-state';

const H = 3_600_000;
const t = (iso: string) => Date.parse(iso);
const paris: WindowSpec = {
  timezone: 'Europe/Paris',
  windows: [
    { days: 'mon-fri', from: '19:00', to: '07:00' },
    { days: 'sat-sun', from: '00:00', to: '24:00' },
  ],
};

describe('window rules', () => {
  it('reads day names, ranges (wrapping over the week end) and lists', () => {
    expect([...parseDays('mon-fri')]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseDays('Sat,sun')]).toEqual([6, 7]);
    expect([...parseDays('fri-mon')].sort()).toEqual([1, 5, 6, 7]);
    expect([...parseDays('daily')]).toHaveLength(7);
    expect([...parseDays('tuesday,thu')]).toEqual([2, 4]);
  });

  it('names the field and the fix for every bad rule', () => {
    expect(windowSpecProblems(paris)).toEqual([]);
    const problems = windowSpecProblems({
      timezone: 'Europe/Pariss',
      windows: [
        { days: 'mon-fry', from: '19:00', to: '07:00' },
        { days: 'sat', from: '25:00', to: '7pm' },
        { days: 'sun', from: '08:00', to: '08:00' },
        { days: 'tue', from: '20:00', to: '23:00' },
        { days: 'mon-wed', from: '22:00', to: '02:00' },
      ],
    });
    expect(problems).toEqual([
      'windows.timezone: "Europe/Pariss" is not a known time zone; use an IANA name such as "Europe/Paris" or "UTC"',
      expect.stringMatching(/^windows\.windows\[0\]\.days: "fry" is not a day; use mon, tue/),
      expect.stringMatching(/^windows\.windows\[1\]\.from: "25:00" is not a time; use 24-hour "HH:MM"/),
      expect.stringMatching(/^windows\.windows\[1\]\.to: "7pm" is not a time/),
      'windows.windows[2]: "from" and "to" are both 08:00; for a whole day write "from": "00:00", "to": "24:00"',
      'windows.windows[4]: overlaps windows[3] on tue; merge them into one window',
    ]);
    expect(windowSpecProblems({ timezone: 'UTC', windows: [] })).toEqual([
      'windows.windows: list at least one window, e.g. { "days": "mon-fri", "from": "19:00", "to": "07:00" }',
    ]);
  });
});

describe('WindowCalendar', () => {
  const cal = new WindowCalendar(paris, undefined, 0);

  it('is closed during office hours and says when it opens and closes', () => {
    // Wednesday 25 November 2026, 12:00 in Paris (UTC+1).
    expect(cal.at(t('2026-11-25T11:00:00Z'))).toEqual({
      open: false,
      opensAt: t('2026-11-25T18:00:00Z'),
      closesAt: t('2026-11-26T06:00:00Z'),
    });
  });

  it('runs overnight, and merges Friday night into the weekend', () => {
    expect(cal.at(t('2026-11-25T21:00:00Z'))).toEqual({
      open: true,
      openedAt: t('2026-11-25T18:00:00Z'),
      closesAt: t('2026-11-26T06:00:00Z'),
    });
    // Sunday noon: open since Friday 19:00; Monday 00:00-07:00 belongs to no rule (days name the opening day).
    expect(cal.at(t('2026-11-29T11:00:00Z'))).toEqual({
      open: true,
      openedAt: t('2026-11-27T18:00:00Z'),
      closesAt: t('2026-11-29T23:00:00Z'),
    });
    expect(cal.longestWindowMs(t('2026-11-25T11:00:00Z'))).toBe(53 * H);
  });

  it('follows DST: the spring night is an hour shorter, the autumn night an hour longer', () => {
    const nightly: WindowSpec = { timezone: 'Europe/Paris', windows: [{ days: 'daily', from: '19:00', to: '07:00' }] };
    const [spring] = openPeriods(nightly, t('2026-03-28T20:00:00Z'), t('2026-03-28T20:00:00Z'));
    expect(spring).toEqual([t('2026-03-28T18:00:00Z'), t('2026-03-29T05:00:00Z')]);
    expect(spring[1] - spring[0]).toBe(11 * H);
    const [autumn] = openPeriods(nightly, t('2026-10-24T20:00:00Z'), t('2026-10-24T20:00:00Z'));
    expect(autumn).toEqual([t('2026-10-24T17:00:00Z'), t('2026-10-25T06:00:00Z')]);
    expect(autumn[1] - autumn[0]).toBe(13 * H);
  });

  it('moves a window that opens in the hour DST skips to the first valid time', () => {
    const early: WindowSpec = { timezone: 'Europe/Paris', windows: [{ days: 'sun', from: '02:30', to: '04:00' }] };
    // 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist and becomes 03:30.
    expect(openPeriods(early, t('2026-03-29T00:00:00Z'), t('2026-03-29T03:00:00Z'))).toEqual([
      [t('2026-03-29T01:30:00Z'), t('2026-03-29T02:00:00Z')],
    ]);
  });

  it('is always open without rules, and never closes with rules that cover the week', () => {
    const always = new WindowCalendar(undefined, undefined, 0);
    expect(always.at(123)).toEqual({ open: true, openedAt: 0, closesAt: null });
    expect(always.longestWindowMs(0)).toBe(Infinity);
    const everyHour = new WindowCalendar({ timezone: 'UTC', windows: [{ days: 'daily', from: '00:00', to: '24:00' }] }, undefined, 0);
    expect(everyHour.at(t('2026-11-25T11:00:00Z'))).toMatchObject({ open: true, closesAt: null });
    expect(everyHour.longestWindowMs(t('2026-11-25T11:00:00Z'))).toBe(Infinity);
  });

  it('counts and walks open time across closed hours (for rates and ETAs)', () => {
    const wedNoon = t('2026-11-25T11:00:00Z');
    // 12:00 to 21:00: open from 19:00 only.
    expect(cal.openMsBetween(wedNoon, wedNoon + 9 * H)).toBe(2 * H);
    // Two hours of open time from Wednesday noon: 19:00 to 21:00.
    expect(cal.shiftByOpenTime(wedNoon, 2 * H)).toBe(t('2026-11-25T20:00:00Z'));
    // Fourteen: the whole night (12 h), then two more from Thursday 19:00.
    expect(cal.shiftByOpenTime(wedNoon, 14 * H)).toBe(t('2026-11-26T20:00:00Z'));
    // One hour of open time back from Thursday noon: Thursday 06:00.
    expect(cal.shiftByOpenTime(t('2026-11-26T11:00:00Z'), -H)).toBe(t('2026-11-26T05:00:00Z'));
  });

  it('runs a faster clock for rehearsals: an office day passes in seconds of real time', () => {
    // Real time 0 is Monday 30 November 2026, 18:00 in Paris; one real second is one virtual hour.
    const fast = new WindowCalendar(paris, { speed: 3600, startAt: '2026-11-30T17:00:00Z' }, 0);
    expect(fast.at(500)).toEqual({ open: false, opensAt: 1000, closesAt: 13_000 });
    expect(fast.at(1000)).toEqual({ open: true, openedAt: 1000, closesAt: 13_000 });
    expect(fast.longestWindowMs(0)).toBe(53_000);
    expect(fast.local(1000)).toBe('Mon 2026-11-30 19:00 Europe/Paris');
  });
});

describe('DurationPredictor', () => {
  const hosts = phaseHosts({ sourceSiteId: 'prod', targetSiteId: 'archive' });

  it('grows with both size and activities, from the defaults before any measurement', () => {
    const p = new DurationPredictor(phaseCosts(), {}, hosts);
    const small = p.courseSeconds({ bytes: 9.5e6, activities: 64 });
    const manyActivities = p.courseSeconds({ bytes: 9.5e6, activities: 300 });
    const big = p.courseSeconds({ bytes: 95e6, activities: 64 });
    expect(manyActivities).toBeGreaterThan(small);
    expect(big).toBeGreaterThan(small);
    // The defaults' backup of an S course (9.4 MB, 64 modules; 3.9 s on a real Moodle 4.5.11 on 2 cores).
    expect(p.phaseSeconds('backup', { bytes: 9.4e6, activities: 64 })).toBeCloseTo(0.9 + 9.4 * 0.22 + 64 * 0.014, 5);
    // What is left of a course retried at restore: restore and every phase after it.
    const size = { bytes: 1e6, activities: 10 };
    expect(p.courseSeconds(size, 'restore')).toBeCloseTo(
      PHASE_NAMES.slice(PHASE_NAMES.indexOf('restore')).reduce((n, ph) => n + p.phaseSeconds(ph, size), 0),
      5,
    );
  });

  it('corrects each phase on its host by measured over predicted, recent courses counting most', () => {
    const measured = {};
    const p = new DurationPredictor(phaseCosts({ backup: { fixedSeconds: 1, secondsPerMB: 1, secondsPerActivity: 0 } }), measured, hosts);
    const size = { bytes: 4e6, activities: 0 };
    expect(p.phaseSeconds('backup', size)).toBe(5);
    p.record(size, { backup: 10 });
    expect(p.factor('backup')).toBe(2);
    expect(p.phaseSeconds('backup', size)).toBe(10);
    expect(p.factor('restore')).toBe(1); // never measured: the default stands
    for (let i = 0; i < 30; i++) p.record(size, { backup: 5 });
    expect(p.factor('backup')).toBeCloseTo(1, 1);
    expect(measured).toHaveProperty(['backup@prod', 'samples'], 31);
  });
});

describe('what a session starts next', () => {
  // Real time 0 is Monday 18:00 UTC; one real second is one virtual hour, so each
  // weeknight window (19:00-07:00) opens at 1 s and lasts 12 s.
  const calendar = new WindowCalendar(
    { timezone: 'UTC', windows: [{ days: 'mon-fri', from: '19:00', to: '07:00' }] },
    { speed: 3600, startAt: '2026-11-30T18:00:00Z' },
    0,
  );
  const zero = { fixedSeconds: 0, secondsPerMB: 0, secondsPerActivity: 0 };
  // Only backups cost anything here: one second per MB.
  const costs = phaseCosts({ ...Object.fromEntries(PHASE_NAMES.map((p) => [p, zero])), backup: { ...zero, secondsPerMB: 1 } });
  const plan = (): SessionPlan => ({ calendar, costs, hosts: defaultPlan(0).hosts, safetyMargin: 0.25, poolLimit: 10 });
  const mb = (courseId: number, megabytes: number) => ({ courseId, bytes: megabytes * 1e6, activities: 0 });
  const session = () => {
    const s = SessionState.initial(0, { concurrency: 10, plan: plan() });
    s.selected({ courses: [mb(1, 2), mb(2, 6), mb(3, 20)], remaining: 3, nextAfter: 3, done: true }, 0);
    return s;
  };

  it('waits for the opening while the window is closed', () => {
    expect(session().nextStep(500)).toEqual({ kind: 'wait', reason: 'window-closed', until: 1000 });
  });

  it('starts first, at the opening of the longest window, a course longer than any window, and flags it', () => {
    const s = session();
    const first = s.nextStep(1000);
    expect(first).toMatchObject({ kind: 'start', course: { courseId: 3 }, overflows: true });
    expect(sessionProgress(s, 1000).oversized).toEqual([{ courseId: 3, predictedSeconds: 20, running: false }]);
    s.started(mb(3, 20), 1000, first as { predictedSeconds: number; overflows: boolean });
    expect(sessionProgress(s, 1000).oversized).toEqual([{ courseId: 3, predictedSeconds: 20, running: true }]);
    // Then the longest course that fits: 6 MB needs 7.5 s of the 12 s left.
    expect(s.nextStep(1000)).toMatchObject({ kind: 'start', course: { courseId: 2 }, predictedSeconds: 6, overflows: false });
  });

  it('keeps a course too long for what is left for the next window, and fills the end with smaller ones', () => {
    const s = session();
    // Mid-window (5 s left): the 20 MB course is not at an opening, the 6 MB one needs 7.5 s.
    expect(s.nextStep(8000)).toMatchObject({ kind: 'start', course: { courseId: 1 }, overflows: false });
    s.started(mb(1, 2), 8000);
    expect(s.nextStep(8000)).toEqual({ kind: 'wait', reason: 'nothing-fits', until: 13_000 });
    expect(sessionProgress(s, 8000)).toMatchObject({ deferred: 2, state: 'running' });
    expect(sessionProgress(s, 8000).note).toContain('2 deferred');
    // At the next opening the 20 MB course goes first, then the 6 MB one.
    expect(s.nextStep(25_000)).toMatchObject({ kind: 'start', course: { courseId: 3 }, overflows: true });
  });

  it('reads more pages looking for a course that fits, while the pool has room', () => {
    const s = SessionState.initial(0, { concurrency: 10, plan: plan() });
    s.selected({ courses: [mb(1, 9)], remaining: 50, nextAfter: 1, done: false }, 0);
    expect(s.nextStep(8000)).toEqual({ kind: 'select' });
  });

  it('learns from measured durations: twice slower than predicted, the 6 MB course no longer fits a window', () => {
    const s = session();
    s.started(mb(1, 2), 1000);
    s.finished({ courseId: 1, status: 'succeeded', phaseSeconds: { backup: 4 } }, 5000);
    expect(s.predictor.factor('backup')).toBe(2);
    expect(s.nextStep(7000)).toEqual({ kind: 'wait', reason: 'nothing-fits', until: 13_000 });
    expect(sessionProgress(s, 7000).oversized.map((o) => o.courseId)).toEqual([2, 3]);
  });

  it('gives an ETA that skips the closed hours', () => {
    const wedEvening = t('2026-11-25T18:00:00Z'); // Wednesday 19:00 in Paris: the window opens
    const paris = new WindowCalendar(
      { timezone: 'Europe/Paris', windows: [{ days: 'mon-fri', from: '19:00', to: '07:00' }] },
      undefined,
      wedEvening,
    );
    const s = SessionState.initial(wedEvening, { concurrency: 800, plan: { ...plan(), calendar: paris } });
    s.selected({ courses: Array.from({ length: 780 }, (_, i) => mb(i + 1, 1)), remaining: 780, nextAfter: 780, done: true }, wedEvening);
    // 60 courses in the first hour: 60 an hour of open time.
    for (let i = 1; i <= 60; i++) {
      s.started(mb(i, 1), wedEvening);
      s.finished({ courseId: i, status: 'succeeded' }, wedEvening + i * 60_000);
    }
    const p = sessionProgress(s, wedEvening + H);
    expect(p.coursesPerHour).toBe(60);
    // 720 left: 12 hours of open time, that is the 11 left tonight and the first of Thursday night.
    expect(p.eta).toBe('2026-11-26T19:00:00.000Z');
  });

  it('says in progress that it waits for the window, and when it opens', () => {
    const s = session();
    s.data.waiting = { reason: 'window-closed', until: 1000 };
    const p = sessionProgress(s, 500);
    expect(p.state).toBe('waiting-for-window');
    expect(p.note).toBe('waiting for window, opens at Mon 2026-11-30 19:00 UTC');
    expect(p.window).toMatchObject({ open: false, opensAt: new Date(1000).toISOString(), closesAt: new Date(13_000).toISOString() });
  });
});
