// Starts the workers for the queues this process serves: the main queue
// (workflows + web-service activities) and/or `site/<id>` queues (host
// activities: admin CLI and staging files), each site queue limited to the
// site's maxConcurrentJobs so two sessions together never overload a Moodle.
import { scrubActivitySecrets } from './secret-scrub';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { createActivities } from '../activities';
import type { RunningSession, SelectionScope, SessionRegistry } from '../activities/overlaps';
import { Catalog } from '../activities/catalog';
import { ConfigError, configSecrets, folderProblems } from './config';
import { sessionOfWorkflowId, siteOfQueue, siteQueue, type ArchiverConfig } from '../contract';
import { connectionOptions, reaching } from './temporal-connection';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Bundles the workflows into a file, once: a worker started with it (`--workflow-bundle`) skips
 * webpack, about 5 s of CPU at every start, and every worker started from it runs the same code. */
export async function writeWorkflowBundle(file: string): Promise<void> {
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quiet });
  writeFileSync(file, code);
}

/** The deployment every archiver worker belongs to. */
export const DEPLOYMENT_NAME = 'moodle-archiver';

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string }
).version;

/** A worker's build: the package's version and, where the workflows come bundled, their code's digest (two builds
 * of one version with other workflow code are two builds). */
export function buildIdOf(bundle?: string): string {
  return bundle ? `${PACKAGE_VERSION}+${createHash('sha256').update(bundle).digest('hex').slice(0, 12)}` : PACKAGE_VERSION;
}

export interface RunningWorkers {
  /** Which build these workers are (buildIdOf). */
  buildId?: string;
  /** Open only where the main queue is served: no host activity touches the catalog. */
  catalog?: Catalog;
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function connectWorker(config: ArchiverConfig): Promise<NativeConnection> {
  return reaching(config.temporal, () => NativeConnection.connect(connectionOptions(config.temporal)));
}

/** The running sessions of this deployment (its main queue; its site ids name one Moodle each) and their selections
 * (each session's memo), read with a client of the worker's own, connected on first use: only the overlap check asks. */
function sessionRegistry(config: ArchiverConfig): SessionRegistry & { close(): Promise<void> } {
  let client: Promise<Client> | undefined;
  const connected = () =>
    (client ??= Connection.connect(connectionOptions(config.temporal)).then(
      (connection) => new Client({ connection, namespace: config.temporal.namespace }),
    ));
  return {
    async signal(workflowId, signal, args) {
      try {
        await (await connected()).workflow.getHandle(workflowId).signal(signal, ...args);
      } catch (e) {
        // The session is gone (terminated or finished): nothing to tell.
        if (!(e instanceof WorkflowNotFoundError)) throw e;
      }
    },
    async running() {
      const out: RunningSession[] = [];
      for await (const w of (await connected()).workflow.list({
        query: `WorkflowType = 'archiveSession' AND ExecutionStatus = 'Running' AND TaskQueue = '${config.mainQueue}'`,
      })) {
        const selection = w.memo?.selection as { since?: number; scope?: SelectionScope } | undefined;
        out.push({
          session: sessionOfWorkflowId(w.workflowId) ?? w.workflowId,
          since: selection?.since ?? w.startTime.getTime(),
          scope: selection?.scope,
        });
      }
      return out;
    },
    async close() {
      if (client) await (await client).connection.close();
    },
  };
}

/** Every queue of a config: the main queue and one per site and storage (served on the host that mounts it). */
export const allQueues = (config: ArchiverConfig) => [
  config.mainQueue,
  ...[...Object.keys(config.sites), ...Object.keys(config.storages)].map(siteQueue),
];

export async function startWorkers(opts: {
  config: ArchiverConfig;
  queues?: string[];
  connection?: NativeConnection;
  /** A pre-built bundle (tests bundle once); else the workflows are bundled at start. */
  workflowBundle?: { code: string };
}): Promise<RunningWorkers> {
  const { config } = opts;
  const queues = opts.queues ?? allQueues(config);
  const known = new Set(allQueues(config));
  const unknown = queues.filter((q) => !known.has(q));
  if (unknown.length)
    throw new Error(`Unknown queue(s) ${unknown.join(', ')}: serve "${config.mainQueue}" or site/<id> for a site or storage in the config`);
  const folders = folderProblems(config, queues);
  if (folders.length) throw new ConfigError('worker start', folders);
  const connection = opts.connection ?? (await connectWorker(config));
  // Only the main worker reaches the catalog (a SQLite file lives on its host); a Moodle
  // or storage host's worker never needs it.
  const catalog = queues.includes(config.mainQueue) ? await Catalog.open(config.catalog.url) : undefined;
  const registry = sessionRegistry(config);
  const activities = createActivities(config, catalog ?? Catalog.elsewhere(config.mainQueue), registry);
  const workers: Worker[] = [];
  const secrets = configSecrets(config);
  const version = { deploymentName: DEPLOYMENT_NAME, buildId: buildIdOf(opts.workflowBundle?.code) };
  for (const taskQueue of queues) {
    const common: WorkerOptions = {
      connection,
      // Each worker says which build it is (the Web UI's Deployments, each workflow task in a history). Tasks are
      // not routed by version: a new build takes over running workflows, which patched() and the replay of
      // recorded histories (test/replay.test.ts) keep safe (README, Upgrading).
      workerDeploymentOptions: { version, useWorkerVersioning: false },
      namespace: config.temporal.namespace,
      taskQueue,
      activities,
      // Cancellation reaches an activity only in a heartbeat's reply: send them often enough
      // that cancelling a session stops its backups within seconds, not a minute.
      // They also carry a transfer's offset: a resumed transfer starts at most 5 s of bytes back.
      interceptors: { activity: [scrubActivitySecrets(secrets)] },
      maxHeartbeatThrottleInterval: '5s',
      defaultHeartbeatThrottleInterval: '5s',
    };
    if (taskQueue === config.mainQueue) {
      workers.push(
        await Worker.create({
          ...common,
          ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
        }),
      );
    } else {
      const id = siteOfQueue(taskQueue)!;
      const host = config.sites[id] ?? config.storages[id];
      workers.push(await Worker.create({ ...common, maxConcurrentActivityTaskExecutions: host.maxConcurrentJobs }));
    }
  }
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  // A worker that fails while nobody waits on `done` yet is still reported to whoever awaits it, never as an
  // unhandled rejection that ends the process with a stack trace.
  done.catch(() => undefined);
  return {
    catalog,
    buildId: version.buildId,
    done,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
      await catalog?.close();
      await registry.close();
      if (!opts.connection) await connection.close();
    },
  };
}
