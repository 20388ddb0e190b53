// The fault suite: a session of FAULT_COURSES courses through each fault a
// real deployment meets. `npm test` runs it at 12 courses per session (every
// trigger is relative to the session's size, so 12 reach the same points);
// `npm run test:faults` runs the full table at 50, with the worker killed
// mid-transport too (the transport suite proves that resume in `npm test`).
// On real parts. For each: courses archived, failed, lost
// (gone from the source with no verified archive: must be 0), sources deleted
// without a verification before the deletion in the ledger (must be 0), and
// the backup bytes the source Moodle sent beyond each file once. Every
// session moves its backups by `moodle-ws`, so the simulated Moodle counts
// every byte it sends. The table is printed and written to .data/faults/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { marksArchiveOf } from '../activities/restore';
import { freePort, startDevServer } from '../client/dev-server';
import { retryCourses, sessionStatus, startSession, type SessionStatus } from '../client/sessions';
import { seedLargeCourse } from '../simulator/seed';
import { moodleWs, startStack, until, workerProcess, writeConfigFile, type Stack } from './harness';
import { testNamespace } from './namespace';
import { courseWorkflowId, sessionWorkflowId } from '../contract';

const FULL = process.env.TEST_LANE === 'full';
const COURSES = Number(process.env.FAULT_COURSES ?? (FULL ? 50 : 10));
const MB = 1_000_000;
/** The 503 outage: long enough for several retries of every call in flight (the quick lane's 15 s waits out the same backoff). */
const OUTAGE_S = FULL ? 30 : 15;
/** How long a faulted session may take, all recoveries included. */
const SESSION_DEADLINE_MS = 600_000;
const TEST_TIMEOUT_MS = SESSION_DEADLINE_MS + 120_000;

export interface FaultRow {
  fault: string;
  courses: number;
  archived: number;
  failed: number;
  lost: number;
  unverifiedDeletions: number;
  bytesResent: number;
  seconds: number;
  note: string;
}
const rows: FaultRow[] = [];

/** The session's status; while the server is down (a fault), undefined. */
const statusOf = (stack: Stack, session: string) => sessionStatus(stack.client, session).catch(() => undefined);

/** Waits until the session's status satisfies `ok`; a session that closed without doing so fails the wait at once. */
async function waitFor(stack: Stack, session: string, ok: (s: SessionStatus) => boolean, ms = SESSION_DEADLINE_MS): Promise<SessionStatus> {
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(session));
  return (await until(
    async () => {
      const status = await statusOf(stack, session);
      if (status && !ok(status)) {
        const run = (await handle.describe().catch(() => undefined))?.status ?? { name: 'RUNNING' };
        if (run.name !== 'RUNNING')
          throw new Error(
            `session ${session} closed (${run.name}) before the awaited state: ${status.state}, ${JSON.stringify(status.counts)}`,
          );
      }
      return status;
    },
    (s) => s !== undefined && ok(s),
    ms,
  ))!;
}

const settledOrStuck = (s: SessionStatus) => s.finished || s.state === 'awaiting-decisions';

/** What the session left behind, read from the sites, the catalog and its ledger, not from the session's own word. */
async function tally(stack: Stack, session: string, courseIds: number[], started: number, fault: string, note = ''): Promise<FaultRow> {
  const prod = stack.sim.sites.prod.store;
  const archive = stack.sim.sites.archive.store;
  let archived = 0;
  let lost = 0;
  let unverifiedDeletions = 0;
  let backupBytes = 0;
  for (const id of courseIds) {
    const row = await stack.catalog.find('prod', id);
    const copy = archive.data.courses.find((c) => marksArchiveOf(c.idnumber, 'prod', id));
    const isArchived = Boolean(row?.verified && copy && copy.visible === 0);
    if (isArchived) archived++;
    const ledger = await stack.catalog.ledgerOf('prod', id);
    // Each course's backup, once: what a transfer without faults would have sent.
    const transported = ledger.find((e) => e.event === 'transportBackup');
    if (transported) backupBytes += (JSON.parse(transported.detail) as { mbzBytes: number }).mbzBytes;
    const onSource = prod.course(id) !== undefined;
    if (!onSource && !isArchived) lost++;
    if (!onSource) {
      // The ledger must show this course's verification before its deletion.
      const events = ledger.map((e) => e.event);
      const deleted = events.indexOf('deleteSourceCourse');
      const verified = events.indexOf('verifyArchive');
      if (deleted < 0 || verified < 0 || verified > deleted) unverifiedDeletions++;
    }
  }
  const status = await sessionStatus(stack.client, session);
  const sent = stack.sim.sites.prod.downloads.backups.reduce((n, d) => n + d.bytes, 0);
  const row: FaultRow = {
    fault,
    courses: courseIds.length,
    archived,
    failed: status.counts.failed,
    lost,
    unverifiedDeletions,
    bytesResent: Math.max(0, sent - backupBytes),
    seconds: Math.round((Date.now() - started) / 1000),
    note,
  };
  rows.push(row);
  return row;
}

/** Starts a faulted session of the vintage and returns what the checks need. */
async function begin(stack: Stack, overrides: Parameters<Stack['sessionInput']>[0] = {}) {
  const courseIds = stack.vintageCourseIds();
  const input = stack.sessionInput({ deleteSource: true, ...overrides });
  await startSession(stack.client, stack.config, input);
  return { courseIds, session: input.session, started: Date.now() };
}

const doneAtLeast = (n: number) => (s: SessionStatus) => s.done >= n;

function expectNothingLost(row: FaultRow) {
  expect(row.lost).toBe(0);
  expect(row.unverifiedDeletions).toBe(0);
  expect(row.archived + row.failed).toBe(row.courses);
}

describe(`a ${COURSES}-course session through each fault`, () => {
  afterAll(() => {
    if (!rows.length) return;
    const dir = join('.data', 'faults');
    mkdirSync(dir, { recursive: true });
    const table = [
      '| fault | courses | archived | failed | lost | unverified deletions | bytes resent | seconds | note |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.fault} | ${r.courses} | ${r.archived} | ${r.failed} | ${r.lost} | ${r.unverifiedDeletions} | ${r.bytesResent} | ${r.seconds} | ${r.note} |`,
      ),
    ].join('\n');
    writeFileSync(join(dir, 'results.md'), `${table}\n`);
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ courses: COURSES, at: new Date().toISOString(), rows }, null, 2));
    console.log(`\nFault suite (${COURSES} courses per session)\n${table}\n`);
  });

  describe.each([
    { phase: 'backup', when: (stack: Stack) => (stack.sim.sites.prod.scripts.running['backup.php'] ?? 0) > 0 },
    // The transport suite kills a worker mid-transfer in `npm test`; the full lane does it here too, under a session.
    ...(FULL ? [{ phase: 'transport', when: undefined }] : []),
  ])('the worker process killed (SIGKILL) mid-$phase', ({ phase, when }) => {
    let stack: Stack;
    afterAll(async () => {
      await stack?.stop();
    });

    it('another worker process takes over; every course ends archived', { timeout: TEST_TIMEOUT_MS }, async () => {
      stack = await startStack({ courses: COURSES, workers: false, configure: moodleWs });
      const prod = stack.sim.sites.prod.store;
      let big: { courseId: number } | undefined;
      if (phase === 'transport') {
        // One recording course whose transfer takes long enough to be cut: 60 MB at 5 MB/s.
        big = seedLargeCourse(prod, {
          bytes: 60 * MB,
          shortname: 'REC60',
          categoryName: 'Recordings',
          categoryIdnumber: 'REC',
          parentCategoryId: stack.vintageCategoryId,
        });
        prod.data.settings.downloadBytesPerSecond = 5 * MB;
      }
      const configFile = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
      let worker = workerProcess(stack, configFile);
      await worker.started;
      const run = await begin(stack);
      let note: string;
      if (big) {
        const course = stack.client.workflow.getHandle(courseWorkflowId(run.session, big.courseId));
        const offset = await until(
          async () => {
            const pending = (await course.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
            const payload = pending.find((a) => a.activityType?.name === 'transportBackup')?.heartbeatDetails?.payloads?.[0];
            return payload ? ((defaultPayloadConverter.fromPayload(payload) as { offset?: number }).offset ?? 0) : 0;
          },
          (o) => o >= 0.25 * 60 * MB,
          SESSION_DEADLINE_MS,
        );
        note = `killed at ${(offset / MB).toFixed(1)} MB of a 60 MB transfer`;
      } else {
        // Backups are short here and courses go fast: hold the next ones at their start, so the kill finds one running
        // (what once was left to timing), then let them go once the worker is dead.
        await waitFor(stack, run.session, doneAtLeast(Math.floor(COURSES / 5)));
        stack.sim.sites.prod.gates.close('backup.php');
        try {
          await until(async () => when!(stack), Boolean);
          note = `killed with ${stack.sim.sites.prod.scripts.running['backup.php']} backup(s) running`;
        } finally {
          worker.proc.kill('SIGKILL');
          await worker.exited;
          stack.sim.sites.prod.gates.open('backup.php');
        }
      }
      if (worker.proc.exitCode === null && worker.proc.signalCode === null) worker.proc.kill('SIGKILL');
      await worker.exited;
      worker = workerProcess(stack, configFile);
      let row: FaultRow;
      try {
        await worker.started;
        await waitFor(stack, run.session, (s) => s.finished);
        row = await tally(stack, run.session, run.courseIds, run.started, `worker killed mid-${phase}`, note); // its query needs a worker
      } finally {
        worker.proc.kill('SIGTERM');
        await worker.exited;
      }
      expectNothingLost(row);
      expect(row.archived).toBe(run.courseIds.length);
      if (big) {
        // Resumed from the heartbeated offset: far less than the whole file went again.
        expect(row.bytesResent).toBeLessThan(60 * MB);
        const transports = (await stack.catalog.ledgerOf('prod', big.courseId)).filter((e) => e.event === 'transportBackup');
        expect((JSON.parse(transports[0].detail) as { resumedFrom: number }).resumedFrom).toBeGreaterThan(0);
      }
    });
  });

  describe('the Temporal dev server stopped and restarted mid-session (same SQLite file)', () => {
    let stack: Stack;
    let dir: string;
    let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
    afterAll(async () => {
      await stack?.stop();
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('workers and the session carry on from the history the server kept', { timeout: TEST_TIMEOUT_MS }, async () => {
      dir = mkdtempSync(join(tmpdir(), 'archiver-restart-'));
      const serverOpts = { port: await freePort(), headless: true, dbFile: join(dir, 'temporal.sqlite'), namespaces: [testNamespace] };
      server = await startDevServer(serverOpts);
      stack = await startStack({ courses: COURSES, configure: moodleWs, temporalAddress: server.address });
      const run = await begin(stack);
      const before = await waitFor(stack, run.session, doneAtLeast(Math.floor(COURSES / 3)));
      await server.stop();
      server = await startDevServer(serverOpts);
      await waitFor(stack, run.session, (s) => s.finished);
      const row = await tally(
        stack,
        run.session,
        run.courseIds,
        run.started,
        'Temporal server restarted',
        `stopped after ${before.done} courses`,
      );
      expectNothingLost(row);
      expect(row.archived).toBe(run.courseIds.length);
    });
  });

  describe('Moodle faults', () => {
    let stack: Stack;
    afterAll(async () => {
      await stack?.stop();
    });

    it(`a source Moodle answering 503 for ${OUTAGE_S} s: retried past, nothing fails`, { timeout: TEST_TIMEOUT_MS }, async () => {
      stack = await startStack({ courses: COURSES, configure: moodleWs });
      const prod = stack.sim.sites.prod.store;
      const run = await begin(stack);
      await waitFor(stack, run.session, doneAtLeast(Math.floor(COURSES / 5)));
      prod.data.restFaults = [{ kind: 'http-503', times: -1 }];
      // The outage itself, a set length of time: 503 on every web-service call and file download.
      await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));
      prod.data.restFaults = [];
      await waitFor(stack, run.session, (s) => s.finished);
      const row = await tally(
        stack,
        run.session,
        run.courseIds,
        run.started,
        `Moodle 503 for ${OUTAGE_S} s`,
        'every web-service call and download',
      );
      expectNothingLost(row);
      expect(row.archived).toBe(run.courseIds.length);
    });
  });

  describe('a source Moodle answering slowly', () => {
    let stack: Stack;
    afterAll(async () => {
      await stack?.stop();
    });

    it('calls past the 2 s request timeout are retried; nothing fails', { timeout: TEST_TIMEOUT_MS }, async () => {
      stack = await startStack({
        courses: COURSES,
        configure: (raw) => {
          moodleWs(raw);
          (raw.sites as Record<string, Record<string, unknown>>).prod.requestTimeoutSeconds = 2;
        },
      });
      // The course calls (not the session's one-off site check, whose retries they would all take).
      const slow = Math.ceil(COURSES * 0.3);
      stack.sim.sites.prod.store.data.restFaults = [{ kind: 'slow', function: 'core_course_get_contents', seconds: 4, times: slow }];
      const run = await begin(stack);
      await waitFor(stack, run.session, (s) => s.finished);
      expect(stack.sim.sites.prod.store.data.restFaults).toEqual([]); // every slow answer was met
      const row = await tally(
        stack,
        run.session,
        run.courseIds,
        run.started,
        'Moodle slow (timeouts)',
        `${slow} core_course_get_contents calls answered after 4 s, timeout 2 s`,
      );
      expectNothingLost(row);
      expect(row.archived).toBe(run.courseIds.length);
    });
  });

  describe('transfers corrupted in flight', () => {
    let stack: Stack;
    afterAll(async () => {
      await stack?.stop();
    });

    it('each is caught by its checksum and fetched again; nothing is archived from a bad copy', { timeout: TEST_TIMEOUT_MS }, async () => {
      stack = await startStack({ courses: COURSES, configure: moodleWs });
      const corrupted = 5;
      stack.sim.sites.prod.store.data.settings.corruptDownloads = corrupted;
      const run = await begin(stack);
      await waitFor(stack, run.session, (s) => s.finished);
      expect(stack.sim.sites.prod.store.data.settings.corruptDownloads).toBe(0);
      const row = await tally(
        stack,
        run.session,
        run.courseIds,
        run.started,
        'transfer corrupted (checksum mismatch)',
        `${corrupted} downloads with a flipped byte`,
      );
      expectNothingLost(row);
      expect(row.archived).toBe(run.courseIds.length);
      // Each corrupted download was thrown away whole and fetched again from zero.
      expect(row.bytesResent).toBeGreaterThan(0);
      for (const r of await stack.catalog.listSession(run.session)) {
        const events = (await stack.catalog.ledgerOf('prod', r.sourceCourseId)).filter((e) => e.event === 'transportBackup');
        expect((JSON.parse(events[0].detail) as { mbzSha256: string }).mbzSha256).toBe(r.mbzSha256);
      }
    });
  });

  describe('the target restore failing for one course', () => {
    let stack: Stack;
    afterAll(async () => {
      await stack?.stop();
    });

    it('that course waits for the operator with its source intact; a retry archives it', { timeout: TEST_TIMEOUT_MS }, async () => {
      stack = await startStack({
        courses: COURSES,
        configure: (raw) => {
          moodleWs(raw);
          // One restore at a time, the default on a real site: a failed attempt's placeholder is then known and removed.
          (raw.sites as Record<string, Record<string, unknown>>).archive.restoresAtOnce = 1;
        },
      });
      const broken = stack.vintageCourseIds()[Math.floor(COURSES / 2)];
      // A restore knows its course by the backup's shortname (the new course's id is the target's).
      stack.sim.sites.archive.store.data.faults.push({
        script: 'restore',
        shortname: stack.sim.sites.prod.store.course(broken)!.shortname,
        times: -1,
      });
      const run = await begin(stack);
      const stuck = await waitFor(stack, run.session, settledOrStuck);
      expect(stuck.state).toBe('awaiting-decisions');
      expect(stuck.failed.map((f) => [f.courseId, f.phase])).toEqual([[broken, 'restore']]);
      // Each failed attempt's "Course restoration in progress" placeholder was removed after it.
      expect(stack.sim.sites.archive.store.data.courses.filter((c) => /^restoring(_\d+)?$/.test(c.shortname))).toEqual([]);
      const row = await tally(
        stack,
        run.session,
        run.courseIds,
        run.started,
        'target restore failing for one course',
        'then fixed and retried: all archived',
      );
      expectNothingLost(row);
      expect(row).toMatchObject({ archived: COURSES - 1, failed: 1 });
      expect(stack.sim.sites.prod.store.course(broken)).toBeDefined();

      stack.sim.sites.archive.store.data.faults = [];
      await retryCourses(stack.client, run.session, [broken]);
      const end = await waitFor(stack, run.session, (s) => s.finished);
      expect(end.counts).toMatchObject({ succeeded: COURSES, failed: 0 });
      expect((await stack.catalog.find('prod', broken))?.verified).toBe(true);
    });
  });

  describe('the target staging disk full', () => {
    let stack: Stack;
    let mount: string | undefined;
    afterAll(async () => {
      await stack?.stop();
      if (mount) {
        execFileSync('umount', [mount]);
        rmSync(mount, { recursive: true, force: true });
      }
    });

    it(
      'transfers that find no room fail and are retried; once room is made, every course ends archived',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        stack = await startStack({
          courses: COURSES,
          configure: (raw) => {
            moodleWs(raw);
            // A 4 MB tmpfs as the target's staging (root only, as CI runs): a disk that really fills.
            mount = mkdtempSync(join(tmpdir(), 'archiver-full-staging-'));
            execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
            (raw.sites as Record<string, Record<string, unknown>>).archive.staging = mount;
          },
        });
        // Ballast leaves ~120 KB free: the larger backups cannot land.
        const ballast = join(mount!, 'ballast');
        writeFileSync(ballast, Buffer.alloc(4 * 1024 * 1024 - 120 * 1024));
        const run = await begin(stack, { concurrency: 8 });
        // The evidence, as an operator sees it: a running course's last attempt failed for want of room.
        const full = await until(
          async () => {
            const status = await sessionStatus(stack.client, run.session);
            const failures = await Promise.all(
              status.runningCourses.map(async ({ courseId }) => {
                // A course the session is starting may not exist yet.
                const described = await stack.client.workflow
                  .getHandle(courseWorkflowId(run.session, courseId))
                  .describe()
                  .catch(() => undefined);
                const pending = described?.raw.pendingActivities ?? [];
                return pending.map((a) => a.lastFailure?.message ?? '').find((m) => /ENOSPC/.test(m));
              }),
            );
            return failures.find(Boolean);
          },
          Boolean,
          SESSION_DEADLINE_MS,
        );
        rmSync(ballast);
        await waitFor(stack, run.session, (s) => s.finished);
        const row = await tally(
          stack,
          run.session,
          run.courseIds,
          run.started,
          'target staging disk full',
          `"${full}"; room made, retries went through`,
        );
        expectNothingLost(row);
        expect(row.archived).toBe(run.courseIds.length);
      },
    );
  });
});
