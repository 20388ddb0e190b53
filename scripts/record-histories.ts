// Records one history of each workflow type, run by the current code against the simulated sites, into
// test/fixtures/histories/ (test/replay.test.ts replays them all against the code of every later change: a
// change that would break a running session fails there). Run it when a workflow changes on purpose, behind
// patched(): npm run record-histories. Recordings are kept, never re-recorded over: a new one is added beside them.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Catalog } from '../activities/catalog';
import { expireDue } from '../client/catalog';
import { startDevServer, temporalBinary } from '../client/dev-server';
import { runDoctor } from '../client/doctor';
import { runPlan } from '../client/plan';
import { createSchedule, refuseMissingCategories } from '../client/schedules';
import { retryCourses, sessionStatus, startSession } from '../client/sessions';
import { validateScheduledSessionInput } from '../client/session-input';
import { courseWorkflowId, sessionWorkflowId } from '../contract';
import { startRig } from '../rig/rig';

const OUT = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'histories');
const label = new Date().toISOString().slice(0, 10);
const dir = resolve('.data', 'record-histories');
rmSync(dir, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 120_000): Promise<T> {
  for (const deadline = Date.now() + ms; ;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Every run of a workflow id, oldest first, each in a file of its own. */
async function save(client: Client, workflowId: string, name: string) {
  const runs: { runId: string; start: number }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId="${workflowId}"` }))
    runs.push({ runId: w.runId, start: w.startTime.getTime() });
  runs.sort((a, b) => a.start - b.start);
  for (const [i, r] of runs.entries()) {
    // As the temporal CLI and the Web UI export a history (proto JSON): what an operator would attach to a bug.
    const json = execFileSync(
      temporalBinary(),
      ['workflow', 'show', '--workflow-id', workflowId, '--run-id', r.runId, '--output', 'json', '--address', server.address],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    const file = join(OUT, `${label}-${name}${runs.length > 1 ? `-run${i + 1}` : ''}.json`);
    writeFileSync(file, json);
    ids[basename(file)] = workflowId;
    console.log(`recorded ${file} (${(JSON.parse(json) as { events: unknown[] }).events.length} events)`);
  }
}

/** Each file's workflow id: a workflow may read its own (a scheduled session's name is in it), so a replay gives it. */
const IDS = join(OUT, 'workflow-ids.json');
const ids: Record<string, string> = existsSync(IDS) ? (JSON.parse(readFileSync(IDS, 'utf8')) as Record<string, string>) : {};

const server = await startDevServer({ headless: true });
const rig = await startRig({ dir, courses: 6, temporalAddress: server.address, contentScale: 0.0005 });
const workers = await rig.startWorkers();
const client = new TemporalClient({ connection: await Connection.connect({ address: server.address }) });
try {
  const prod = rig.sim.sites.prod.store;
  const courses = prod.coursesUnder(rig.vintageCategory.id).map((c) => c.id);
  // A session that reads its courses 3 at a time and rolls over every 2 starts (pages are read ahead and carried over);
  // one course's backup fails once (retried by its activity), another's fails until the operator retries it after
  // fixing the cause (a hold, then a retry).
  const [once, held] = [courses[1], courses[4]];
  prod.data.faults.push({ script: 'backup', courseId: once, times: 1 }, { script: 'backup', courseId: held, times: -1 });
  prod.save();
  const input = rig.sessionInput({ session: 'recorded', deleteSource: true, concurrency: 2, continueAsNewAfter: 2, pageSize: 3 });
  const session = await startSession(client, rig.config, input);
  await until(
    () => sessionStatus(client, input.session),
    (s) => s.state === 'awaiting-decisions',
  );
  prod.data.faults = [];
  prod.save();
  await retryCourses(client, input.session, [held]);
  await session.result();
  await save(client, sessionWorkflowId(input.session), 'archiveSession-rolled-over');
  await save(client, courseWorkflowId(input.session, held), 'archiveCourse-held-then-retried');
  await save(client, courseWorkflowId(input.session, once), 'archiveCourse-retried-activity');

  // A plan, doctor, and the category check of schedule create.
  const base = { ...input, session: undefined, vintage: undefined };
  await runPlan(client, rig.config, { ...base, sourceCategoryId: rig.vintageCategory.id } as never);
  for await (const w of client.workflow.list({ query: 'WorkflowType="planSession"' })) await save(client, w.workflowId, 'planSession');
  await runDoctor(client, rig.config, { workerWaitSeconds: 30 });
  for await (const w of client.workflow.list({ query: 'WorkflowType="checkSetup"' })) await save(client, w.workflowId, 'checkSetup');

  // A session started by a schedule: the next vintage, resolved when it fires.
  const scheduled = validateScheduledSessionInput(
    {
      scheduleId: 'recorded-schedule',
      sourceSiteId: 'prod',
      targetSiteId: 'archive',
      targetCategoryId: rig.archivesCategory.id,
      includeSubcategories: true,
      mirrorSubcategories: true,
      concurrency: 2,
      deleteSource: false,
      vintageRule: { list: [{ from: '2000-01-01', vintage: '2025-2026' }], match: 'idnumber', timezone: 'UTC' },
    },
    rig.config,
  );
  await refuseMissingCategories(client, rig.config, scheduled);
  for await (const w of client.workflow.list({ query: 'WorkflowType="checkCategories"' }))
    await save(client, w.workflowId, 'checkCategories');
  await createSchedule(client, rig.config, scheduled, { yearly: '07-01 20:00', timezone: 'UTC' });
  await client.schedule.getHandle(scheduled.scheduleId).trigger();
  const fired = await until(
    () => client.schedule.getHandle(scheduled.scheduleId).describe(),
    (d) => d.info.recentActions.length === 1,
  );
  const firedId = fired.info.recentActions[0].action.workflow.workflowId;
  await client.workflow.getHandle(firedId).result();
  await save(client, firedId, 'archiveSession-scheduled');
  await client.schedule.getHandle(scheduled.scheduleId).delete();

  // Expiry: the first session's archives, judged a century on.
  const catalog = await Catalog.open(rig.config.catalog.url);
  await catalog.db.archivedCourse.updateMany({ data: { retentionUntil: new Date('2030-01-01T00:00:00Z') } });
  await expireDue(client, rig.config, catalog, new Date('2130-01-01T00:00:00Z'), false);
  await catalog.close();
  for await (const w of client.workflow.list({ query: 'WorkflowType="expireArchives"' }))
    await save(client, w.workflowId, 'expireArchives');
  writeFileSync(IDS, `${JSON.stringify(ids, null, 2)}\n`);
} finally {
  await client.connection.close();
  await workers.shutdown();
  await rig.stop();
  await server.stop();
}
