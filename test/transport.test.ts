// Transport, both drivers: a large backup (50 MB at 5 MB/s in `npm test`, the
// same ten-second kill window as the full lane's 200 MB at 20 MB/s) crosses
// while the target host's worker process is killed (SIGKILL) in the middle; a new worker process
// resumes the transfer from the last heartbeated offset, sending fewer bytes
// than the file holds, and the archive's sha256 is the backup's own.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSession } from '../client/sessions';
import { seedLargeCourse } from '../simulator/seed';
import { parseConfig } from '../workers/config';
import { startWorkers, type RunningWorkers } from '../workers/run';
import { moodleWs, startStack, until, workerProcess, writeConfigFile, type Stack } from './harness';
import { courseWorkflowId } from '../contract';

const MB = 1_000_000;
const FULL = process.env.TEST_LANE === 'full';
const SIZE = (FULL ? 200 : 50) * MB;
const MB_PER_S = FULL ? 20 : 5;

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}

describe.each([
  { driver: 'moodle-ws' as const, route: { driver: 'moodle-ws' } },
  { driver: 'shared-path' as const, route: { driver: 'shared-path', maxMBps: MB_PER_S } },
])('a $driver transfer whose worker is killed halfway', ({ driver, route }) => {
  let stack: Stack;
  let workers: RunningWorkers;
  let big: { courseId: number; categoryId: number };

  beforeAll(async () => {
    stack = await startStack({ courses: 1, workers: false });
    const prod = stack.sim.sites.prod.store;
    big = seedLargeCourse(prod, { bytes: SIZE, shortname: 'REC', categoryName: 'Recordings', categoryIdnumber: 'REC' });
    // moodle-ws: the source site's web server caps the rate; shared-path: the route's own cap does.
    if (driver === 'moodle-ws') prod.data.settings.downloadBytesPerSecond = MB_PER_S * MB;
    (stack.rawConfig as Record<string, unknown>).transports = [{ from: 'prod', to: 'archive', ...route }];
    const config = parseConfig(stack.rawConfig, { env: stack.env });
    workers = await startWorkers({
      config,
      queues: [config.mainQueue, 'site/prod'],
      workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') },
    });
  });
  afterAll(async () => {
    await workers?.shutdown();
    await stack?.stop();
  });

  it("resumes where the last heartbeat left it, and the archive has the backup's sha256", { timeout: 240_000 }, async () => {
    const configFile = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
    let target = workerProcess(stack, configFile, ['site/archive']);
    await target.started;
    const input = stack.sessionInput({ sourceCategoryId: big.categoryId, concurrency: 1, deleteSource: true });
    const handle = await startSession(stack.client, stack.config, input);
    const course = stack.client.workflow.getHandle(courseWorkflowId(input.session, big.courseId));

    // Halfway, as the server knows it: the transport activity's last recorded heartbeat.
    const offsetAtKill = await until(
      async () => {
        const pending = (await course.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
        const transport = pending.find((a) => a.activityType?.name === 'transportBackup');
        const payload = transport?.heartbeatDetails?.payloads?.[0];
        return payload ? ((defaultPayloadConverter.fromPayload(payload) as { offset?: number }).offset ?? 0) : 0;
      },
      (offset) => offset >= 0.3 * SIZE,
      120_000,
    );
    const backupFile =
      driver === 'moodle-ws'
        ? join(
            stack.sim.sites.prod.store.layout.backupArea(big.courseId),
            readdirSync(stack.sim.sites.prod.store.layout.backupArea(big.courseId))[0],
          )
        : join(stack.config.sites.prod.staging, input.session, readdirSync(join(stack.config.sites.prod.staging, input.session))[0]);
    target.proc.kill('SIGKILL');
    await target.exited;
    const backupSha256 = await sha256Of(backupFile);

    target = workerProcess(stack, configFile, ['site/archive']);
    try {
      const result = await handle.result();
      expect(result.counts.succeeded).toBe(1);
    } finally {
      target.proc.kill('SIGTERM');
      await target.exited;
    }

    const row = await stack.catalog.find('prod', big.courseId);
    expect(row).toMatchObject({ verified: true, sourceDeleted: true, mbzSha256: backupSha256 });
    const mbzBytes = Number(row!.mbzBytes);
    expect(mbzBytes).toBeGreaterThan(SIZE);
    // The last transport attempt started where the killed one had heartbeated, and sent only the rest.
    const transports = (await stack.catalog.ledgerOf('prod', big.courseId)).filter((e) => e.event === 'transportBackup');
    expect(transports).toHaveLength(1);
    const moved = JSON.parse(transports[0].detail) as { resumedFrom: number; transferredBytes: number; mbzSha256: string };
    expect(moved.resumedFrom).toBeGreaterThanOrEqual(offsetAtKill);
    expect(moved.transferredBytes).toBe(mbzBytes - moved.resumedFrom);
    expect(moved.transferredBytes).toBeLessThan(mbzBytes);
    expect(moved.mbzSha256).toBe(backupSha256);
    if (driver === 'moodle-ws') {
      // The source Moodle's side of it: a second request with a Range from that offset, answered with the rest only.
      const downloads = stack.sim.sites.prod.downloads.backups;
      const last = downloads[downloads.length - 1];
      expect(last.range).toBe(`bytes=${moved.resumedFrom}-`);
      expect(last.bytes).toBe(moved.transferredBytes);
      expect(downloads.reduce((n, d) => n + d.bytes, 0)).toBeLessThan(2 * mbzBytes);
    }
    // Verified before deleted: the course is gone from the source only now.
    expect(stack.sim.sites.prod.store.course(big.courseId)).toBeUndefined();
  });
});

describe('a moodle-ws transfer corrupted in flight', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      courses: 3,
      configure: moodleWs,
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("is caught by the ETag's SHA-1, thrown away, and fetched again from zero", async () => {
    stack.sim.sites.prod.store.data.settings.corruptDownloads = 1;
    const input = stack.sessionInput({ deleteSource: true, concurrency: 1 });
    const result = await stack.runSession(input);
    expect(result.counts).toMatchObject({ succeeded: 3, failed: 0 });
    const downloads = stack.sim.sites.prod.downloads.backups;
    expect(downloads).toHaveLength(4); // three files, one of them twice
    const twice = downloads.filter((d) => downloads.filter((e) => e.file === d.file).length === 2);
    expect(twice.map((d) => d.range)).toEqual(['', '']); // the second from the start: the bytes on disk were not trusted
    const courseId = Number(/^backup-moodle2-course-(\d+)-/.exec(twice[0].file)![1]);
    const history = await stack.client.workflow.getHandle(courseWorkflowId(input.session, courseId)).fetchHistory();
    const retried = history.events!.find((e) => e.activityTaskStartedEventAttributes?.attempt === 2)!.activityTaskStartedEventAttributes!;
    expect(retried.lastFailure?.message).toMatch(/does not match its source: sha1 [0-9a-f]{40}, the source's ETag says [0-9a-f]{40}/);
    const row = await stack.catalog.find('prod', courseId);
    expect(row).toMatchObject({ verified: true, sourceDeleted: true });
  });
});
