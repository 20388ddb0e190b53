// `npm run bench`: the figures users compare with their cron script, each
// measured side by side in one run on the embedded defaults (a local Temporal
// dev server on a SQLite file with the WAL pragmas, simulated Moodle sites,
// a SQLite catalog). Writes bench/RESULTS.md and bench/results.json.
//
//   ceiling        the dev server's rate for a bare workflow of six no-op activities
//   orchestration  a session against the simulator with a fixed latency, and the
//                  sequential baseline making the same calls one course after another
//   transport      a large .mbz through each transport driver, and `cp` of the same file
//   scale          a zero-latency session: wall time, worker RSS, history lengths, cost per course
//   busy           the demo's session (220 courses, 8 at once) alone, then with every core kept busy by other
//                  processes: session time, workflow task timeouts, workflow task latency p99
//   faults         the fault suite (npm run test:faults), its table and totals
import { Command } from 'commander';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Catalog } from '../activities/catalog';
import { freePort, startDevServer, temporalBinary, type DevServer } from '../client/dev-server';
import { progressBar } from '../client/render';
import { sessionStatus, startSession, type SessionStatus } from '../client/sessions';
import { seedLargeCourse } from '../simulator/seed';
import { startRig, type Rig } from '../rig/rig';
import { allQueues, writeWorkflowBundle } from '../workers/run';
import type { SessionInput } from '../workflows/types';
import { archiveSequentially } from './sequential-baseline';
import { courseWorkflowId, sessionWorkflowId } from '../contract';

const SECTIONS = ['ceiling', 'orchestration', 'transport', 'scale', 'busy', 'faults'] as const;
const o = new Command()
  .option('--courses <n>', 'courses in the orchestration session (and its baseline)', Number, 1000)
  .option('--latency-ms <n>', 'simulated Moodle latency: each admin script and each web-service call', Number, 200)
  .option('--concurrency <n>', "courses at once (and each site's maxConcurrentJobs)", Number, 20)
  .option('--sessions <n>', 'orchestration sessions, each on fresh sites: the median is the figure (a shared machine is noisy)', Number, 3)
  .option('--scale-courses <list>', 'courses in each zero-latency scale session (the worker RSS is measured at each size)', '1000,10000')
  .option('--busy-courses <n>', "courses in the busy section's session (the demo's)", Number, 220)
  .option('--transport-mib <n>', 'size of the course whose .mbz crosses each transport driver, in MiB', Number, 1024)
  .option('--ceiling-workflows <n>', 'bare workflows run for the ceiling', Number, 1000)
  .option('--sections <list>', `which to run, of ${SECTIONS.join(',')}`, SECTIONS.join(','))
  .option('--data <dir>', 'where the runs keep their files (wiped at start)', '.data/bench')
  .option('--out <dir>', 'where RESULTS.md and results.json go', 'bench')
  .parse()
  .opts<{
    courses: number;
    latencyMs: number;
    concurrency: number;
    sessions: number;
    scaleCourses: string;
    busyCourses: number;
    transportMib: number;
    ceilingWorkflows: number;
    sections: string;
    data: string;
    out: string;
  }>();

const scaleSizes = o.scaleCourses.split(',').map((n) => Number(n.trim()));
const sections = new Set(o.sections.split(',').map((s) => s.trim()));
for (const s of sections)
  if (!(SECTIONS as readonly string[]).includes(s))
    throw new Error(`--sections: unknown section "${s}"; use some of ${SECTIONS.join(',')}`);
for (const [name, v] of [
  ...Object.entries({
    courses: o.courses,
    concurrency: o.concurrency,
    sessions: o.sessions,
    'busy-courses': o.busyCourses,
    'transport-mib': o.transportMib,
    'ceiling-workflows': o.ceilingWorkflows,
  }),
  ...scaleSizes.map((n) => ['scale-courses', n] as const),
]) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a whole number of at least 1 (got ${v})`);
}
if (!(o.latencyMs >= 0)) throw new Error(`--latency-ms must be 0 or more (got ${o.latencyMs})`);

Runtime.install({ logger: new DefaultLogger('ERROR') });
const dataDir = resolve(o.data);
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const MiB = 1 << 20;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const say = (s: string) => console.log(`[bench] ${s}`);

// ---- process accounting: what each part of the system spends, to say what bounds a figure ----

/** CPU seconds of a process and of the children it waited for (the admin-script stand-ins of a worker). */
function cpuOf(pid: number): { self: number; children: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = 100; // USER_HZ on Linux
  return { self: (Number(fields[11]) + Number(fields[12])) / tick, children: (Number(fields[13]) + Number(fields[14])) / tick };
}

const statusMb = (pid: number, field: 'VmHWM' | 'VmRSS') =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

interface MeasuredWorker {
  /** Its peak RSS, its RSS once started (before any work: what growth is measured from), and its CPU. */
  stop(): Promise<{ peakRssMb: number; startedRssMb: number; cpu: { self: number; children: number } }>;
}

/** The workers as production runs them (the rig's worker process), measured when they stop. */
async function workerProcess(run: SimRun, queues?: string[]): Promise<MeasuredWorker> {
  const worker = run.workerProcess(queues);
  await worker.started;
  const startedRssMb = round(statusMb(worker.proc.pid!, 'VmRSS'), 1);
  return {
    async stop() {
      const measured = { peakRssMb: round(statusMb(worker.proc.pid!, 'VmHWM'), 1), startedRssMb, cpu: cpuOf(worker.proc.pid!) };
      await worker.stop();
      return measured;
    },
  };
}

// ---- simulated sites and sessions ----

/** The workflows bundled once, as a production worker started with --workflow-bundle runs them: the workers'
 * figures measure the running, not webpack at each start (about 300 MB of peak RSS, once). */
let bundle: Promise<string> | undefined;
const workflowBundle = () =>
  (bundle ??= (async () => {
    const file = join(dataDir, 'workflows-bundle.js');
    await writeWorkflowBundle(file);
    return file;
  })());

type SimRun = Rig & { input: SessionInput };

/** The Moodle hosts' and storages' queues of a run: a deployment serves them on those hosts, not with the main queue. */
const siteQueues = (run: SimRun) => allQueues(run.config).filter((q) => q !== run.config.mainQueue);

/** The simulated rig with a fixed latency on each admin script and web-service call, and its session. */
async function simulatedSites(
  name: string,
  server: DevServer,
  opts: { courses: number; latencyMs: number; concurrency: number; configure?: (raw: Record<string, unknown>) => void },
): Promise<SimRun> {
  const seconds = opts.latencyMs / 1000;
  const rig = await startRig({
    dir: join(dataDir, name),
    courses: opts.courses,
    contentScale: 0.0005,
    temporalAddress: server.address,
    mainQueue: `bench-${name}`,
    logLevel: 'warn',
    latency: { fixedSeconds: seconds, secondsPerMB: 0, secondsPerActivity: 0, requestSeconds: seconds },
    maxConcurrentJobs: Math.min(64, opts.concurrency),
    configure: opts.configure,
    workflowBundlePath: await workflowBundle(),
    // The Moodle hosts' work waits out its modelled time instead of starting a process per admin script: the
    // figures measure the orchestrator, not node starting up for the stand-ins.
    scriptsInServer: true,
  });
  return { ...rig, input: rig.sessionInput({ session: `bench-${name}`, concurrency: opts.concurrency }) };
}

interface SessionRun {
  seconds: number;
  courses: number;
  failed: number;
  peakRssMb: number;
  startedRssMb: number;
  cpu: Record<string, number>;
  hostWorker?: { queues: string[]; peakRssMb: number };
}

/**
 * Runs the session with a progress bar; measures wall time, the workers' peak RSS and each part's CPU.
 * One worker process serves every queue, or (hostQueues) a second one serves those queues, as the
 * worker on a Moodle host does: the transport benchmark measures the target host's worker so.
 */
async function runSession(client: Client, server: DevServer, run: SimRun, hostQueues?: string[]): Promise<SessionRun> {
  const worker = await workerProcess(run, hostQueues && allQueues(run.config).filter((q) => !hostQueues.includes(q)));
  const host = hostQueues && (await workerProcess(run, hostQueues));
  const serverCpu0 = cpuOf(server.process.pid!).self;
  const benchCpu0 = process.cpuUsage();
  const t0 = Date.now();
  const handle = await startSession(client, run.config, run.input);
  // Its end as Temporal reports it (across runs), not at the next progress read a second later.
  let endedAt: number | undefined;
  void handle
    .result()
    .catch(() => undefined)
    .then(() => (endedAt ??= Date.now()));
  const bar = progressBar();
  // A worker saturated on purpose may leave a query unanswered for a while: keep the last answer.
  const read = async (last?: SessionStatus) => (await sessionStatus(client, run.input.session).catch(() => last)) ?? last;
  let status = await read();
  while (!status || (!status.finished && status.state !== 'awaiting-decisions')) {
    if (status) bar.update(status);
    await new Promise((r) => setTimeout(r, 1000));
    status = await read(status);
  }
  const seconds = ((endedAt ?? Date.now()) - t0) / 1000;
  bar.update(status);
  bar.stop();
  const benchCpu = process.cpuUsage(benchCpu0);
  const serverCpu = cpuOf(server.process.pid!).self - serverCpu0;
  const w = await worker.stop();
  const h = await host?.stop();
  return {
    ...(h ? { hostWorker: { queues: hostQueues!, peakRssMb: h.peakRssMb } } : {}),
    seconds: round(seconds, 1),
    courses: status.counts.succeeded,
    failed: status.counts.failed,
    peakRssMb: w.peakRssMb,
    startedRssMb: w.startedRssMb,
    cpu: {
      // The orchestrator: the main queue's worker (workflows, web-service calls, the catalog).
      worker: round(w.cpu.self, 1),
      // A Moodle host's worker: it starts the admin scripts (a fork each) and moves files.
      hostWorker: round(h?.cpu.self ?? 0, 1),
      adminScripts: round(w.cpu.children + (h?.cpu.children ?? 0), 1),
      temporalServer: round(serverCpu, 1),
      simulator: round((benchCpu.user + benchCpu.system) / 1e6, 1),
    },
  };
}

// ---- what Temporal counts ----

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Billable actions as Temporal Cloud counts them: starts, activities and their retries, local activities (one per
 * workflow task that ran any), timers, signals sent and received, child starts, search-attribute upserts, updates. */
function actionsIn(events: HistoryEvent[]): number {
  let n = 0;
  const localActivityTasks = new Set<string>();
  for (const e of events) {
    if (
      e.workflowExecutionStartedEventAttributes ||
      e.activityTaskScheduledEventAttributes ||
      e.timerStartedEventAttributes ||
      e.signalExternalWorkflowExecutionInitiatedEventAttributes ||
      e.startChildWorkflowExecutionInitiatedEventAttributes ||
      e.upsertWorkflowSearchAttributesEventAttributes ||
      e.workflowExecutionSignaledEventAttributes ||
      e.workflowExecutionUpdateAcceptedEventAttributes
    )
      n++;
    const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
    if (attempt > 1) n += attempt - 1;
    if (e.markerRecordedEventAttributes) localActivityTasks.add(String(e.markerRecordedEventAttributes.workflowTaskCompletedEventId));
  }
  return n + localActivityTasks.size;
}

async function listRuns(client: Client, query: string): Promise<{ workflowId: string; runId: string; historyLength: number }[]> {
  const out: { workflowId: string; runId: string; historyLength: number }[] = [];
  for await (const w of client.workflow.list({ query }))
    out.push({ workflowId: w.workflowId, runId: w.runId, historyLength: w.historyLength });
  return out;
}

/** History lengths and cost per course of a finished session. */
async function temporalCost(client: Client, session: string, courses: number) {
  // Visibility is eventually consistent: wait until every course's closed run is listed.
  let courseRuns = await listRuns(client, `ArchiveSession="${session}" AND WorkflowType="archiveCourse" AND ExecutionStatus!="Running"`);
  for (const deadline = Date.now() + 60_000; courseRuns.length < courses && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 1000));
    courseRuns = await listRuns(client, `ArchiveSession="${session}" AND WorkflowType="archiveCourse" AND ExecutionStatus!="Running"`);
  }
  const sessionRuns = await listRuns(client, `WorkflowId="${sessionWorkflowId(session)}"`);
  let sessionActions = 0;
  // What the session's events are, by type per course: where its history's weight comes from.
  const sessionEventTypes: Record<string, number> = {};
  for (const r of sessionRuns) {
    const events = (await client.workflow.getHandle(r.workflowId, r.runId).fetchHistory()).events ?? [];
    sessionActions += actionsIn(events);
    for (const e of events) {
      const type = (proto.temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'unknown').replace('EVENT_TYPE_', '');
      sessionEventTypes[type] = (sessionEventTypes[type] ?? 0) + 1;
    }
  }
  // Course histories are all alike: a sample of 20 gives the actions of one.
  const sample = courseRuns.slice(0, 20);
  let sampleActions = 0;
  for (const r of sample) sampleActions += actionsIn((await client.workflow.getHandle(r.workflowId, r.runId).fetchHistory()).events ?? []);
  const eventsPerCourse = courseRuns.reduce((n, r) => n + r.historyLength, 0) / Math.max(1, courseRuns.length);
  const sessionEvents = sessionRuns.reduce((n, r) => n + r.historyLength, 0);
  return {
    sessionRuns: sessionRuns.length,
    maxSessionRunEvents: Math.max(0, ...sessionRuns.map((r) => r.historyLength)),
    maxCourseEvents: Math.max(0, ...courseRuns.map((r) => r.historyLength)),
    eventsPerCourseWorkflow: round(eventsPerCourse, 1),
    sessionEventsPerCourse: round(sessionEvents / courses, 1),
    actionsPerCourseWorkflow: round(sampleActions / Math.max(1, sample.length), 1),
    sessionActionsPerCourse: round(sessionActions / courses, 1),
    sessionEventsPerCourseByType: Object.fromEntries(
      Object.entries(sessionEventTypes)
        .sort(([, a], [, b]) => b - a)
        .map(([type, n]) => [type, round(n / courses, 2)]),
    ),
  };
}

/** Workflow tasks of a session and its courses, from their histories: how many timed out, and the latency from
 * scheduled to completed (what a workflow waits for its worker), its p50 and p99. */
async function workflowTaskStats(client: Client, session: string) {
  const runs = [
    ...(await listRuns(client, `WorkflowId="${sessionWorkflowId(session)}"`)),
    ...(await listRuns(client, `ArchiveSession="${session}" AND WorkflowType="archiveCourse"`)),
  ];
  const ms = (e: HistoryEvent) => Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;
  const latencies: number[] = [];
  let timeouts = 0;
  for (const r of runs) {
    const scheduled = new Map<string, number>();
    for (const e of (await client.workflow.getHandle(r.workflowId, r.runId).fetchHistory()).events ?? []) {
      if (e.workflowTaskScheduledEventAttributes) scheduled.set(String(e.eventId), ms(e));
      const done = e.workflowTaskCompletedEventAttributes;
      if (done) latencies.push(ms(e) - scheduled.get(String(done.scheduledEventId))!);
      if (e.workflowTaskTimedOutEventAttributes) timeouts++;
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0, 0);
  return { workflows: runs.length, tasks: latencies.length, timeouts, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

/** Keeps every core busy, as other processes on a shared machine do: one spinning process per core. */
function loadEveryCore(): { stop(): void } {
  const procs = cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return { stop: () => procs.forEach((p) => p.kill('SIGKILL')) };
}

// ---- the sections ----

const results: Record<string, unknown> = {};
const figures: Record<string, number | null> = {};
const started = new Date();
let failure: Error | undefined;
say(`starting the Temporal dev server (SQLite file, WAL pragmas) under ${dataDir}`);
const server = await startDevServer({ port: await freePort(), headless: true, dbFile: join(dataDir, 'temporal.sqlite') });
const client = new Client({ connection: await Connection.connect({ address: server.address }) });

try {
  if (sections.has('ceiling')) {
    say(`ceiling: ${o.ceilingWorkflows} bare workflows of six no-op activities`);
    const connection = await NativeConnection.connect({ address: server.address });
    const worker = await Worker.create({
      connection,
      taskQueue: 'bench-ceiling',
      activities: { noop: async () => undefined },
      workflowsPath: fileURLToPath(new URL('./ceiling-workflow.ts', import.meta.url)),
    });
    const t0 = Date.now();
    await worker.runUntil(async () => {
      const handles = [];
      for (let i = 0; i < o.ceilingWorkflows; i++) {
        handles.push(client.workflow.start('sixNoOpActivities', { taskQueue: 'bench-ceiling', workflowId: `bench-ceiling-${i}` }));
      }
      await Promise.all((await Promise.all(handles)).map((h) => h.result()));
    });
    const seconds = (Date.now() - t0) / 1000;
    await connection.close();
    results.ceiling = {
      workflows: o.ceilingWorkflows,
      seconds: round(seconds, 1),
      workflowsPerSecond: round(o.ceilingWorkflows / seconds),
    };
    say(`ceiling: ${round(o.ceilingWorkflows / seconds)} workflows/s`);
  }

  if (sections.has('orchestration')) {
    say(`orchestration: ${o.courses} courses, ${o.latencyMs} ms per admin script and per web-service call, concurrency ${o.concurrency}`);
    const sessions: SessionRun[] = [];
    for (let i = 1; i <= o.sessions; i++) {
      const temporalRun = await simulatedSites(`orchestration-${i}`, server, {
        courses: o.courses,
        latencyMs: o.latencyMs,
        concurrency: o.concurrency,
      });
      sessions.push(await runSession(client, server, temporalRun, siteQueues(temporalRun)));
      await temporalRun.sim.stop();
      say(`orchestration: session ${i}/${o.sessions} took ${sessions.at(-1)!.seconds} s`);
    }
    const session = [...sessions].sort((a, b) => a.seconds - b.seconds)[Math.floor((sessions.length - 1) / 2)];
    say(`orchestration: the median session took ${session.seconds} s; now the sequential baseline on a fresh copy of the sites`);
    const baselineRun = await simulatedSites('baseline', server, { courses: o.courses, latencyMs: o.latencyMs, concurrency: 1 });
    const catalog = await Catalog.open(baselineRun.config.catalog.url);
    const t0 = Date.now();
    let done = 0;
    const archived = await archiveSequentially(baselineRun.config, catalog, baselineRun.input, () => {
      if (++done % 50 === 0) say(`baseline: ${done}/${o.courses} courses, ${round((Date.now() - t0) / 1000, 0)} s`);
    });
    const baselineSeconds = (Date.now() - t0) / 1000;
    await catalog.close();
    await baselineRun.sim.stop();
    results.orchestration = {
      courses: o.courses,
      latencyMs: o.latencyMs,
      concurrency: o.concurrency,
      sessionSeconds: sessions.map((r) => r.seconds),
      session,
      baseline: { courses: archived, seconds: round(baselineSeconds, 1) },
      speedup: round(baselineSeconds / session.seconds),
    };
    figures.orchestration_speedup = round(baselineSeconds / session.seconds);
    say(`orchestration: baseline ${round(baselineSeconds, 1)} s, speedup ${figures.orchestration_speedup}`);
  }

  if (sections.has('transport')) {
    const bytes = o.transportMib * MiB;
    const drivers: Record<string, unknown> = {};
    let cpSeconds = 0;
    let worst = Infinity;
    let peak = 0;
    for (const driver of ['moodle-ws', 'shared-path'] as const) {
      say(`transport: a ${o.transportMib} MiB course by ${driver}`);
      const run = await simulatedSites(`transport-${driver}`, server, {
        courses: 1,
        latencyMs: 0,
        concurrency: 1,
        configure: (raw) => {
          raw.transports = [{ from: 'prod', to: 'archive', driver }];
        },
      });
      const prod = run.sim.sites.prod.store;
      const big = seedLargeCourse(prod, { bytes, shortname: 'BIG', categoryName: 'Recordings', categoryIdnumber: 'REC' });
      const input = { ...run.input, sourceCategoryId: big.categoryId, concurrency: 1, deleteSource: false };
      // The transfer runs on the target host's worker (site/archive), measured on its own.
      const session = await runSession(client, server, { ...run, input }, ['site/archive']);
      const history = await client.workflow.getHandle(courseWorkflowId(input.session, big.courseId)).fetchHistory();
      const events = history.events ?? [];
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'transportBackup')!;
      const at = (e: HistoryEvent) => Number(e.eventTime!.seconds) + (e.eventTime!.nanos ?? 0) / 1e9;
      const startedEv = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled.eventId))!;
      const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId))!;
      const seconds = at(completed) - at(startedEv);
      const catalog = await Catalog.open(run.config.catalog.url);
      const row = await catalog.find('prod', big.courseId);
      await catalog.close();
      const mbzBytes = Number(row!.mbzBytes);
      if (driver === 'moodle-ws') {
        // The plain copy: the same .mbz (the one in the course's backup area), on the same disk.
        const area = prod.layout.backupArea(big.courseId);
        const file = join(area, readdirSync(area)[0]);
        const copy = join(run.config.sites.archive.staging, 'cp-baseline.mbz');
        const c0 = Date.now();
        execFileSync('cp', [file, copy]);
        cpSeconds = (Date.now() - c0) / 1000;
        if (statSync(copy).size !== mbzBytes) throw new Error('the cp baseline copied a different file');
        rmSync(copy);
      }
      await run.stop();
      const mbps = mbzBytes / MiB / seconds;
      const targetRss = session.hostWorker!.peakRssMb;
      drivers[driver] = {
        mbzBytes,
        seconds: round(seconds, 1),
        MiBps: round(mbps, 1),
        targetHostWorkerPeakRssMb: targetRss,
        mainWorkerPeakRssMb: session.peakRssMb,
        sessionSeconds: session.seconds,
      };
      worst = Math.min(worst, mbps);
      peak = Math.max(peak, targetRss);
    }
    const cpMbps = (o.transportMib * MiB) / MiB / cpSeconds;
    results.transport = { mib: o.transportMib, drivers, cp: { seconds: round(cpSeconds, 2), MiBps: round(cpMbps, 1) } };
    // The slower driver against cp: both drivers must do.
    figures.transport_ratio_vs_cp = round(worst / cpMbps);
    figures.transport_peak_rss_mb = peak;
    say(`transport: slower driver ${round(worst, 1)} MiB/s, cp ${round(cpMbps, 1)} MiB/s, peak RSS ${peak} MB`);
  }

  if (sections.has('scale')) {
    // Each size in its own session; the worker RSS at each says whether memory stays flat in the number of
    // courses; the other figures come from the largest. The Moodle hosts' queues are served by a worker of their
    // own, as on a real deployment: the orchestrator's figures are the main queue's worker's.
    const bySize: Record<number, unknown> = {};
    for (const courses of scaleSizes) {
      say(`scale: ${courses} courses, zero latency, concurrency ${o.concurrency}`);
      const run = await simulatedSites(`scale-${courses}`, server, { courses, latencyMs: 0, concurrency: o.concurrency });
      const session = await runSession(client, server, run, siteQueues(run));
      await run.stop();
      const cost = await temporalCost(client, run.input.session, session.courses);
      bySize[courses] = { session, cost };
      figures[`scale_peak_worker_rss_mb_at_${courses}`] = session.peakRssMb;
      if (courses !== Math.max(...scaleSizes)) continue;
      figures.zero_latency_courses_per_s = round(session.courses / session.seconds);
      figures.scale_max_history_events = Math.max(cost.maxSessionRunEvents, cost.maxCourseEvents);
      // A course workflow's own history and billable actions, and what each course adds to its session's runs.
      figures.events_per_course = cost.eventsPerCourseWorkflow;
      figures.actions_per_course = cost.actionsPerCourseWorkflow;
      figures.session_events_per_course = cost.sessionEventsPerCourse;
      figures.orchestrator_cpu_s_per_course = round(session.cpu.worker / Math.max(1, session.courses), 3);
      const ceiling = (results.ceiling as { workflowsPerSecond: number } | undefined)?.workflowsPerSecond;
      figures.temporal_ceiling_ratio = ceiling ? round(figures.zero_latency_courses_per_s / ceiling) : null;
      say(
        `scale: ${session.seconds} s, ${figures.zero_latency_courses_per_s} courses/s, longest history ${figures.scale_max_history_events} events`,
      );
    }
    results.scale = { concurrency: o.concurrency, bySize };
  }

  if (sections.has('busy')) {
    const busy: Record<string, unknown> = {};
    for (const loaded of [false, true]) {
      const name = loaded ? 'busy-loaded' : 'busy-alone';
      say(
        `busy: the demo's session, ${o.busyCourses} courses, 8 at once${loaded ? `, every core (${cpus().length}) kept busy` : ', machine otherwise idle'}`,
      );
      const run = await simulatedSites(name, server, { courses: o.busyCourses, latencyMs: 0, concurrency: 8 });
      const load = loaded ? loadEveryCore() : undefined;
      try {
        const session = await runSession(client, server, run);
        busy[name] = { session, workflowTasks: await workflowTaskStats(client, run.input.session) };
      } finally {
        load?.stop();
        await run.stop();
      }
    }
    results.busy = busy;
    const loaded = busy['busy-loaded'] as { session: SessionRun; workflowTasks: { timeouts: number; p99Ms: number } };
    const alone = busy['busy-alone'] as { session: SessionRun };
    figures.busy_workflow_task_timeouts = loaded.workflowTasks.timeouts;
    figures.busy_workflow_task_p99_ms = loaded.workflowTasks.p99Ms;
    figures.busy_session_seconds = loaded.session.seconds;
    figures.idle_session_seconds = alone.session.seconds;
    say(
      `busy: ${alone.session.seconds} s alone, ${loaded.session.seconds} s loaded; ${loaded.workflowTasks.timeouts} task timeouts, p99 ${loaded.workflowTasks.p99Ms} ms`,
    );
  }

  if (sections.has('faults')) {
    say('faults: the fault suite (npm run test:faults)');
    const report = join('.data', 'faults', 'results.json');
    rmSync(report, { force: true });
    try {
      execFileSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/faults.test.ts'], {
        stdio: 'inherit',
        env: { ...process.env, TEST_LANE: 'full' },
      });
    } catch {
      say('faults: the suite reported failures; its table still counts');
    }
    if (existsSync(report)) {
      const faults = JSON.parse(readFileSync(report, 'utf8')) as { courses: number; rows: { lost: number; unverifiedDeletions: number }[] };
      results.faults = faults;
      figures.fault_courses_lost = faults.rows.reduce((n, r) => n + r.lost, 0);
      figures.fault_unverified_deletions = faults.rows.reduce((n, r) => n + r.unverifiedDeletions, 0);
    }
  }
} catch (e) {
  // What was measured before the failure is still written, with the failure named.
  failure = e as Error;
  results.failure = failure.stack ?? String(failure);
  console.error(failure);
} finally {
  await client.connection.close();
  await server.stop();
}

// ---- the report ----

const temporalVersion = execFileSync(temporalBinary(), ['--version']).toString().trim();
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: round(totalmem() / 2 ** 30, 1),
  node: process.version,
  temporal: temporalVersion,
};
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
const GOALS: Record<string, { goal: string; met: (v: number) => boolean }> = {
  orchestration_speedup: { goal: '>= 15', met: (v) => v >= 15 },
  zero_latency_courses_per_s: { goal: '>= 10', met: (v) => v >= 10 },
  temporal_ceiling_ratio: { goal: '>= 0.7', met: (v) => v >= 0.7 },
  transport_ratio_vs_cp: { goal: '>= 0.8', met: (v) => v >= 0.8 },
  transport_peak_rss_mb: { goal: '< 250', met: (v) => v < 250 },
  scale_max_history_events: { goal: '< 2000', met: (v) => v < 2000 },
  events_per_course: { goal: '<= 40', met: (v) => v <= 40 },
  actions_per_course: { goal: '<= 15', met: (v) => v <= 15 },
  session_events_per_course: { goal: '<= 4', met: (v) => v <= 4 },
  orchestrator_cpu_s_per_course: { goal: '<= 0.15', met: (v) => v <= 0.15 },
  busy_workflow_task_timeouts: { goal: '0', met: (v) => v === 0 },
  busy_workflow_task_p99_ms: { goal: '< 1000', met: (v) => v < 1000 },
  scale_peak_worker_rss_mb_at_: { goal: '< 300', met: (v) => v < 300 },
  fault_courses_lost: { goal: '0', met: (v) => v === 0 },
  fault_unverified_deletions: { goal: '0', met: (v) => v === 0 },
};
/** A figure measured at several sizes (scale_peak_worker_rss_mb_at_1000) has its size's goal. */
const goalOf = (figure: string) => GOALS[figure] ?? GOALS[figure.replace(/\d+$/, '')];
const json = { date: started.toISOString(), command, machine, options: o, ...figures, details: results };
mkdirSync(o.out, { recursive: true });
writeFileSync(join(o.out, 'results.json'), `${JSON.stringify(json, null, 2)}\n`);
const lines = [
  '# Benchmark results',
  '',
  `- date: ${started.toISOString()}`,
  `- command: \`${command}\``,
  `- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; ${machine.temporal.split('\n')[0]}`,
  '',
  '| figure | value | goal | met |',
  '|---|---|---|---|',
  ...Object.entries(figures).map(([k, v]) => {
    const goal = goalOf(k);
    return `| ${k} | ${v ?? 'not run'} | ${goal?.goal ?? ''} | ${v === null || !goal ? '' : goal.met(v) ? 'yes' : 'no'} |`;
  }),
  '',
  '## Details',
  '',
  '```json',
  JSON.stringify(results, null, 2),
  '```',
  '',
];
const existing = existsSync(join(o.out, 'RESULTS.md')) ? readFileSync(join(o.out, 'RESULTS.md'), 'utf8') : '';
// What a person wrote under "## Reading" (what bounds each figure) survives a new run.
const reading = existing.indexOf('## Reading');
writeFileSync(join(o.out, 'RESULTS.md'), lines.join('\n') + (reading >= 0 ? `\n${existing.slice(reading)}` : ''));
say(
  `wrote ${join(o.out, 'RESULTS.md')} and ${join(o.out, 'results.json')}${failure ? ' (a section failed: see "failure" in the details)' : ''}`,
);
process.exit(failure ? 1 : 0);
