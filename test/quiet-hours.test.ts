// Quiet by day, on real parts: allowed windows on a rehearsal clock (one real
// second is half an hour), courses started only when their predicted
// duration fits, pause with drain, a live concurrency change, and a per-host
// limit that holds across two sessions. At 1,800 times real speed a loaded
// machine's milliseconds are virtual minutes: each test asserts what the
// product promises (no phase starts outside a window, a course that does not
// fit waits for a window it fits in), with windows long enough that a late
// timer never costs a week, and waits on conditions, not on timing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionStatus, startSession, type SessionStatus } from '../client/sessions';
import { PHASE_NAMES } from '../workflows/phases';
import { WindowCalendar } from '../workflows/windows';
import type { SimCourse } from '../simulator/state';
import { archiverCli, startStack, until, type Stack } from './harness';
import { courseWorkflowId } from '../contract';
import type { CourseResult } from '../workflows/types';

const MB = 1_000_000;

/** Spreads a declared size over the course's files (what Moodle reports and the admin scripts take time on). */
function setDeclaredSize(course: SimCourse, bytes: number) {
  const files = course.sections.flatMap((s) => s.modules.flatMap((m) => m.files));
  for (const f of files) f.filesize = Math.max(1, Math.round(bytes / files.length));
}

/** Reads a session's progress until it ends; returns every reading. */
async function follow(stack: Stack, session: string, until: Promise<unknown>): Promise<SessionStatus[]> {
  const samples: SessionStatus[] = [];
  let over = false;
  void until.finally(() => {
    over = true;
  });
  while (!over) {
    samples.push(await sessionStatus(stack.client, session));
    await new Promise((r) => setTimeout(r, 150)); // a reading interval, as `status --watch` has
  }
  return samples;
}

const distinctInOrder = <T>(xs: T[]) => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);

describe('a session with allowed windows', () => {
  let stack: Stack;
  // Admin scripts take 0.1 s plus 5 ms per declared MB: an 800 MB course takes seconds, a 10 MB one a fraction.
  beforeAll(async () => {
    stack = await startStack({ courses: 8, latency: { fixedSeconds: 0.1, secondsPerMB: 0.005, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(
    'waits, works, waits again; starts only courses that fit, and keeps the big one for the next, longer window',
    { timeout: 240_000 },
    async () => {
      const prod = stack.sim.sites.prod.store;
      const courses = prod.coursesUnder(stack.vintageCategoryId);
      const big = courses[3];
      for (const c of courses) setDeclaredSize(c, c.id === big.id ? 800 * MB : 10 * MB);
      prod.save();
      // Monday 15:00 in Paris at the start; windows Monday 19:00-22:00 (6 s), too short for the big course,
      // and Tuesday to Sunday all day (from 4 s after that: nearly five minutes, more than everything needs).
      const input = stack.sessionInput({
        concurrency: 2,
        deleteSource: true,
        windows: {
          timezone: 'Europe/Paris',
          windows: [
            { days: 'mon', from: '19:00', to: '22:00' },
            { days: 'tue-sun', from: '00:00', to: '24:00' },
          ],
        },
        clock: { speed: 1800, startAt: '2026-11-30T15:00:00+01:00' },
        // Seeds close to the simulator's model, with room for process start-up; measurements correct them.
        prediction: {
          safetyMargin: 0.5,
          phaseCosts: {
            prepare: { fixedSeconds: 0.3 },
            transport: { fixedSeconds: 0.3 },
            postprocess: { fixedSeconds: 0.3 },
            backup: { fixedSeconds: 0.4, secondsPerMB: 0.005, secondsPerActivity: 0 },
            restore: { fixedSeconds: 0.4, secondsPerMB: 0.005, secondsPerActivity: 0 },
            cleanup: { fixedSeconds: 0.5, secondsPerMB: 0.0015, secondsPerActivity: 0 },
          },
        },
      });
      const handle = await startSession(stack.client, stack.config, input);
      const samples = await follow(stack, input.session, handle.result());
      const result = await handle.result();

      expect(result.counts).toEqual({ succeeded: 8, failed: 0, skipped: 0, cancelled: 0 });
      // Waiting before the first window, working, waiting between the two, working again.
      const states = distinctInOrder(samples.map((s) => s.state));
      expect(states.join(' > ')).toMatch(/waiting-for-window > running > .*waiting-for-window > running/);
      expect(samples.find((s) => s.state === 'waiting-for-window')!.note).toBe(
        'waiting for window, opens at Mon 2026-11-30 19:00 Europe/Paris',
      );
      expect(samples.some((s) => s.deferred > 0 && s.window?.open)).toBe(true);

      // The wait before the first window is one durable timer to the opening (4 virtual hours: 8 s, less the
      // session's first checks), not polling.
      const history = await handle.fetchHistory();
      const timers = history
        .events!.filter((e) => e.timerStartedEventAttributes)
        .map((e) => {
          const d = e.timerStartedEventAttributes!.startToFireTimeout!;
          return Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9;
        });
      expect(timers[0]).toBeGreaterThan(4);
      expect(timers[0]).toBeLessThanOrEqual(8);
      expect(timers.length).toBeLessThanOrEqual(12);

      // No phase started outside a window: one running at the close finishes, the next waits.
      // (The end is not held to the close: at 1,800x, a few milliseconds of load on a busy
      // machine are minutes of virtual time past the prediction.) The big one waited for the long window.
      const calendar = new WindowCalendar(input.windows, input.clock, Date.parse(result.startedAt));
      const secondOpening = calendar.toReal(Date.parse('2026-12-01T00:00:00+01:00'));
      for (const c of courses) {
        // A course's result gives its phase times as ISO strings.
        const { facts } = (await stack.client.workflow.getHandle(courseWorkflowId(input.session, c.id)).result()) as CourseResult;
        const phases = PHASE_NAMES.map((p) => [p, facts.phaseTimes[p]!] as const);
        for (const [phase, [startIso]] of phases) {
          expect(startIso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          const start = Date.parse(startIso);
          const w = calendar.at(start);
          expect(w.open, `course ${c.id}: ${phase} started at ${calendar.local(start)}, outside a window`).toBe(true);
        }
        if (c.id === big.id) expect(Date.parse(facts.phaseTimes.prepare![0])).toBeGreaterThanOrEqual(secondOpening);
      }
      // The predictor learned from what it measured, per phase and host.
      expect(result.prediction.find((p) => p.phase === 'backup')).toMatchObject({ host: 'prod', samples: 8 });
      expect(stack.vintageCourseIds()).toEqual([]);
    },
  );
});

describe('courses still running when the window closes', () => {
  let stack: Stack;
  // Every admin script takes 1.5 s, while the session's seeds predict a few milliseconds per phase.
  beforeAll(async () => {
    stack = await startStack({ courses: 6, latency: { fixedSeconds: 1.5, secondsPerMB: 0, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('finish the phase they are in, then hold with no admin script running until the next window', { timeout: 120_000 }, async () => {
    const tiny = { fixedSeconds: 0.01, secondsPerMB: 0, secondsPerActivity: 0 };
    // Monday 18:58 at the start; windows Monday 19:00-21:00 (4 s), then from Tuesday 01:00 (after an 8 s gap,
    // room for a running phase to finish and hold on a loaded machine) to the end of the week: the rest of
    // the session never waits for next Monday.
    const input = stack.sessionInput({
      concurrency: 3,
      deleteSource: true,
      windows: {
        timezone: 'UTC',
        windows: [
          { days: 'mon', from: '19:00', to: '21:00' },
          { days: 'tue', from: '01:00', to: '24:00' },
          { days: 'wed-sun', from: '00:00', to: '24:00' },
        ],
      },
      clock: { speed: 1800, startAt: '2026-11-30T18:58:00Z' },
      prediction: { safetyMargin: 0, phaseCosts: Object.fromEntries(PHASE_NAMES.map((p) => [p, tiny])) },
    });
    const handle = await startSession(stack.client, stack.config, input);
    // Closed: the running courses have finished their phase and hold; the Moodle hosts are quiet.
    const quiet = await until(
      () => sessionStatus(stack.client, input.session, { courses: 3 }),
      (s) => s.window?.open === false && s.done < 6 && s.running > 0 && s.waiting === s.running,
      30_000,
    );
    expect(quiet.state).toBe('waiting-for-window');
    for (const c of quiet.courses) expect(c.waitingFor).toBe('the window (opens Tue 2026-12-01 01:00 UTC)');
    expect(stack.sim.sites.prod.scripts.running.all ?? 0).toBe(0);
    expect(stack.sim.sites.archive.scripts.running.all ?? 0).toBe(0);

    const result = await handle.result();
    expect(result.counts).toEqual({ succeeded: 6, failed: 0, skipped: 0, cancelled: 0 });
    // The seeds were far too low; the measurements say so.
    expect(result.prediction.find((p) => p.phase === 'backup')!.factor).toBeGreaterThan(10);
  });
});

describe('pause with drain, and a live concurrency change', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 10, latency: { fixedSeconds: 0.4, secondsPerMB: 0, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('holds running courses at their next phase boundary until resumed, and takes a new concurrency without a restart', async () => {
    // Both first courses are caught at the start of their backup: the drain reaches them in a known phase
    // (a course already in its last phase would just finish, and prove nothing).
    const prod = stack.sim.sites.prod;
    prod.gates.close('backup.php');
    const input = stack.sessionInput({ concurrency: 2, maxConcurrency: 5, deleteSource: false });
    const handle = await startSession(stack.client, stack.config, input);
    await until(
      async () => prod.gates.waiting('backup.php'),
      (n) => n === 2,
    );
    const running = (await sessionStatus(stack.client, input.session)).runningCourses.map((c) => c.courseId);
    expect(running).toHaveLength(2);
    expect(await archiverCli(stack, ['pause', input.session, '--drain'])).toContain('with drain');
    // The session told each running course to hold; then their backups may finish.
    for (const id of running) {
      await until(
        async () =>
          (await stack.client.workflow.getHandle(courseWorkflowId(input.session, id)).fetchHistory()).events!.some(
            (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'hold',
          ),
        Boolean,
      );
    }
    prod.gates.open('backup.php');
    // Every running course finishes its phase, then holds; nothing new starts and no admin script runs.
    const held = await until(
      () => sessionStatus(stack.client, input.session, { courses: 5 }),
      (s) => s.running === 2 && s.waiting === 2,
    );
    expect(held).toMatchObject({ state: 'paused', draining: true });
    expect(held.note).toBe('paused with drain: running courses hold at their next phase boundary');
    for (const c of held.courses) expect(c.waitingFor).toBe('resume (the session was paused with drain)');
    expect(stack.sim.sites.prod.scripts.running.all ?? 0).toBe(0);
    expect(stack.sim.sites.archive.scripts.running.all ?? 0).toBe(0);
    expect((await sessionStatus(stack.client, input.session)).done).toBe(held.done);

    // Refused with the reason, before anything changes; then accepted live.
    await expect(archiverCli(stack, ['concurrency', input.session, '0'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('concurrency must be a whole number of at least 1'),
    });
    await expect(archiverCli(stack, ['concurrency', input.session, '6'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("at most 5, this session's maxConcurrency"),
    });
    expect(await archiverCli(stack, ['concurrency', input.session, '4'])).toContain('2 -> 4');

    expect(await archiverCli(stack, ['resume', input.session])).toContain('Resumed');
    const samples = await follow(stack, input.session, handle.result());
    const result = await handle.result();
    expect(result.counts).toEqual({ succeeded: 10, failed: 0, skipped: 0, cancelled: 0 });
    expect(result.concurrency).toBe(4);
    expect(Math.max(...samples.map((s) => s.running))).toBeGreaterThan(2);
    expect(Math.max(...samples.map((s) => s.running))).toBeLessThanOrEqual(4);
  });
});

describe('a per-host limit across sessions', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 8, maxConcurrentJobs: 2, latency: { fixedSeconds: 0.5, secondsPerMB: 0, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('never runs more admin scripts at once on one Moodle host than its maxConcurrentJobs, whatever the sessions ask', async () => {
    const other = stack.sim.sites.prod.store.data.categories.find((c) => c.idnumber === '2025-2026')!;
    const a = stack.sessionInput({ concurrency: 4, deleteSource: true });
    const b = stack.sessionInput({
      session: `${a.session}-next`,
      concurrency: 4,
      deleteSource: true,
      vintage: '2025-2026',
      sourceCategoryId: other.id,
    });
    const [ra, rb] = await Promise.all([stack.runSession(a), stack.runSession(b)]);
    expect(ra.counts.succeeded).toBe(8);
    expect(rb.counts.succeeded).toBe(5);
    // Eight courses asked for prod at once; the host's queue let two through.
    expect(stack.sim.sites.prod.scripts.peak.all).toBe(2);
    expect(stack.sim.sites.prod.scripts.peak['backup.php']).toBeLessThanOrEqual(2);
  });
});
