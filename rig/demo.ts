// The demo: everything on one machine. A local Temporal dev server with its
// Web UI, two simulated Moodle sites (prod with the 2024-2025 vintage, and
// archive), the workers, and one session that archives the vintage.
import { Command } from 'commander';
import { rmSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Catalog } from '../activities/catalog';
import { createLogger } from '../activities/logger';
import { whileBusy } from '../client/busy';
import { freePort, portsFree, startDevServer } from '../client/dev-server';
import { inertStdout } from '../client/inert';
import { progressBar, renderStatus } from '../client/render';
import { sessionStatus, startSession } from '../client/sessions';
import { sessionWorkflowId } from '../contract';
import { startRig } from './rig';

// The demo prints course names from its simulated sites, as the CLI prints Moodle's: made inert the same way.
inertStdout();

const o = new Command()
  .option('--courses <n>', 'courses in the 2024-2025 vintage', (v) => Number(v), 220)
  .option('--concurrency <n>', 'courses at once', (v) => Number(v), 8)
  .option('--keep-source', 'do not delete the source courses')
  .option('--keep-running', 'leave the servers up afterwards, for a look in the Web UI (Ctrl-C stops)')
  .option('--data <dir>', 'where the demo keeps its files (wiped at start)', '.data/demo')
  .option(
    '--windows',
    'rehearse quiet hours on a clock 240 times faster: a window opens 30 s after the start and closes 60 s later; the weekend window follows',
  )
  .parse()
  .opts<{ courses: number; concurrency: number; keepSource?: boolean; keepRunning?: boolean; data: string; windows?: boolean }>();

/**
 * The rehearsal: the windows' clock starts on Friday 15:00 in Paris and runs
 * 240 times faster (a real second is four minutes). Weeknights open at 17:00
 * (30 s from now) and close at 21:00 (60 s later); the weekend opens at
 * Saturday 00:00 (45 s after that). The sites take time per MB and per
 * activity, as a real Moodle does, so the predictor has something to learn.
 */
const REHEARSAL = {
  windows: {
    timezone: 'Europe/Paris',
    windows: [
      { days: 'mon-fri', from: '17:00', to: '21:00' },
      { days: 'sat-sun', from: '00:00', to: '24:00' },
    ],
  },
  clock: { speed: 240, startAt: '2026-11-27T15:00:00+01:00' },
  latency: { fixedSeconds: 0, secondsPerMB: 0.0005, secondsPerActivity: 0.002 },
};

const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
// The demo stops its own parts on a signal, in order (its client, the workers, the sites, the server): the SDK does not.
Runtime.install({ logger: new DefaultLogger('ERROR', (e) => log.error({ sdk: e.meta }, e.message)), shutdownSignals: [] });
const dataDir = resolve(o.data);
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const t0 = Date.now();

// The usual ports when free, else any: a second demo or a local Temporal already there does not stop this one.
const ports = (await portsFree(7233, 8233)) ? { port: 7233, uiPort: 8233 } : { port: await freePort(), uiPort: await freePort() };
// Whatever happens from here on (a failure, Ctrl-C), the servers and workers it started stop with the demo.
let stopping: Promise<void> | undefined;
const parts: { stop(): Promise<void> }[] = [];
const stopAll = () =>
  (stopping ??= (async () => {
    // While its parts go down, a client's retry may fire on a channel just closed (grpc-js throws from a timer):
    // the demo is ending, so that is no news.
    process.on('uncaughtException', () => undefined);
    for (const part of parts.reverse()) await part.stop().catch(() => undefined);
  })());
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the demo's servers and workers ...\n`);
    void stopAll().then(() => process.exit(130));
  });
try {
  console.log(`Starting the Temporal dev server on 127.0.0.1:${ports.port} (Web UI on http://localhost:${ports.uiPort}) ...`);
  const temporal = await startDevServer({ ...ports, dbFile: join(dataDir, 'temporal.sqlite') });
  parts.push(temporal);
  console.log(`Seeding simulated Moodle sites: ${o.courses} courses in vintage 2024-2025 ...`);
  const rig = await startRig({
    dir: dataDir,
    courses: o.courses,
    latency: o.windows ? REHEARSAL.latency : undefined,
    temporalAddress: temporal.address,
  });
  const { sim, config, configFile, vintageCategory: vintageCat, archivesCategory: archivesCat } = rig;
  parts.push(rig);
  const workers = await rig.startWorkers();
  parts.push({ stop: () => workers.shutdown() });
  const input = rig.sessionInput({
    session: 'demo-2024-2025',
    concurrency: o.concurrency,
    deleteSource: !o.keepSource,
    ...(o.windows ? { windows: REHEARSAL.windows, clock: REHEARSAL.clock } : {}),
  });

  const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  parts.push({ stop: () => client.connection.close() });
  console.log(
    `Archiving category "${vintageCat.name}" (prod) into "${archivesCat.name}" (archive), ${o.concurrency} at once, sources ${input.deleteSource ? 'deleted after verification' : 'kept'}`,
  );
  await startSession(client, config, input);
  // The CLI as the README shows it, on this demo's config (a path relative to here when it is under it).
  const shownConfig = relative(process.cwd(), configFile).startsWith('..') ? configFile : relative(process.cwd(), configFile);
  const cli = `npm run cli -- --config ${shownConfig}`;
  console.log(`Session ${input.session}, config ${shownConfig}. Follow it from another terminal: ${cli} status ${input.session} --watch`);
  if (o.windows) {
    console.log(
      `Windows: ${REHEARSAL.windows.windows.map((w) => `${w.days} ${w.from}-${w.to}`).join(', ')} (${REHEARSAL.windows.timezone}), on a clock ${REHEARSAL.clock.speed} times faster.`,
    );
  }
  const bar = progressBar();
  // Until nothing is left to run: failed courses would wait for `retry` or `skip` (try them with --keep-running).
  // A busy machine may leave a query unanswered past its deadline: one line above the bar, and again.
  const readStatus = () =>
    whileBusy({ client, what: 'reading the session', queue: config.mainQueue, say: (l) => bar.log(`${l}\n`) }, () =>
      sessionStatus(client, input.session, { phases: true }),
    );
  let final = await readStatus();
  let lastNote = '';
  for (; !final.finished && final.state !== 'awaiting-decisions'; final = await readStatus()) {
    // With windows, each change of state gets a line of its own above the bar.
    if (o.windows && final.state !== lastNote) {
      bar.log(`${new Date().toLocaleTimeString('sv-SE')}  ${final.window?.localNow ?? ''}  ${final.state}: ${final.note}\n`);
      lastNote = final.state;
    }
    bar.update(final);
    await new Promise((r) => setTimeout(r, 1000));
  }
  bar.update(final);
  bar.stop();
  console.log(`\n${renderStatus(input.session, final)}`);

  const catalog = await Catalog.open(config.catalog.url);
  const rows = await catalog.listSession(input.session);
  const ledger = await catalog.verifyLedger();
  await catalog.close();
  const remaining = sim.sites.prod.store.coursesUnder(vintageCat.id).length;
  const uiLink = `${temporal.uiUrl}/namespaces/default/workflows/${encodeURIComponent(sessionWorkflowId(input.session))}`;
  console.log(`
Summary
  courses archived and verified: ${rows.filter((r) => r.verified).length} (catalog: ${join(dataDir, 'catalog.sqlite')})
  source courses deleted:        ${rows.filter((r) => r.sourceDeleted).length}; left in the vintage on prod: ${remaining}
  archive site now holds:        ${sim.sites.archive.store.data.courses.length} courses, all hidden: ${sim.sites.archive.store.data.courses.every((c) => c.visible === 0)}
  ledger:                        ${ledger.problems.length ? `BROKEN: ${ledger.problems[0]}` : `${ledger.entries} entries, hash chain intact (head ${ledger.head.slice(0, 16)}…)`}
  wall time:                     ${((Date.now() - t0) / 1000).toFixed(1)} s
  Temporal Web UI:               ${uiLink}
  find the failed courses:       temporal workflow list --address ${temporal.address} --query 'ArchiveSession="${input.session}" AND ArchiveStatus="failed"'
  where a course is now:         ${cli} catalog find ${(rows[0]?.shortname ?? 'hist').slice(0, 4).toLowerCase()}`);
  if (o.keepRunning)
    console.log(
      `  the session, the report:       ${cli} status ${input.session}; ${cli} report ${input.session} --out ${shownConfig.replace(/[^/]*$/, '')}`,
    );

  if (o.keepRunning) {
    console.log('\nServers are still up (--keep-running). Ctrl-C stops them.');
    await new Promise<void>(() => undefined); // until SIGINT, which stops everything
  }
  await stopAll();
  process.exit(final.counts.failed === 0 && final.finished && !ledger.problems.length ? 0 : 1);
} catch (e) {
  // Stopped by a signal, what was running fails as its servers go: that is no failure of the demo's.
  if (interrupted) await new Promise(() => undefined);
  // One clear line, not a stack trace; everything started is stopped, and the exit code says it failed.
  process.stderr.write(`\nThe demo failed: ${(e as Error).message}\n`);
  await stopAll();
  process.exit(1);
}
