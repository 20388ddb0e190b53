// One test stack: simulated prod and archive sites seeded in a temp folder,
// workers on the shared dev server (with the shared bundle), and a client.
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Catalog } from '../activities/catalog';
import { startSession } from '../client/sessions';
import { temporalBinary } from '../client/dev-server';
import { startRig, type Rig, type RigOptions, type WorkerProcess } from '../rig/rig';
import type { RunningWorkers } from '../workers/run';
import type { SessionInput } from '../workflows/types';
import { testNamespace } from './namespace';

let counter = 0;

// Warnings and errors only: the worker's lifecycle chatter hides test output.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  /* already installed by another suite in this process */
}

export interface Stack extends Rig {
  client: Client;
  workers: RunningWorkers;
  catalog: Catalog;
  vintageCategoryId: number;
  archivesCategoryId: number;
  /** Courses of the vintage (category and subcategories) still on prod. */
  vintageCourseIds(): number[];
  runSession(input: SessionInput): Promise<Awaited<ReturnType<Awaited<ReturnType<typeof startSession>>['result']>>>;
}

export async function startStack(
  opts: Pick<RigOptions, 'courses' | 'latency' | 'maxConcurrentJobs' | 'configure'> & {
    /** False: no workers in this process (a test runs the worker command itself). */
    workers?: boolean;
    /** The config's notifications section. */
    notifications?: Record<string, unknown>;
    /** A Temporal server of the test's own (the shared one by default). */
    temporalAddress?: string;
  },
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'archiver-stack-'));
  const address = opts.temporalAddress ?? inject('temporalAddress');
  const n = ++counter;
  const rig = await startRig({
    dir,
    courses: opts.courses,
    contentScale: 0.0005,
    latency: opts.latency,
    temporalAddress: address,
    maxConcurrentJobs: opts.maxConcurrentJobs,
    mainQueue: `archive-main-${process.pid}-${n}`,
    namespace: testNamespace,
    workflowBundlePath: inject('workflowBundlePath'),
    configure: (raw, d) => {
      if (opts.notifications) raw.notifications = opts.notifications;
      opts.configure?.(raw, d);
    },
  });
  const connection = await NativeConnection.connect({ address });
  const workers =
    opts.workers === false
      ? {
          catalog: await Catalog.open(rig.config.catalog.url),
          done: Promise.resolve(),
          async shutdown() {
            await this.catalog!.close();
          },
        }
      : await rig.startWorkers({ connection, workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') } });
  const client = new Client({ connection: await Connection.connect({ address }), namespace: testNamespace });
  const prod = rig.sim.sites.prod.store;
  return {
    ...rig,
    client,
    workers,
    catalog: workers.catalog!,
    vintageCategoryId: rig.vintageCategory.id,
    archivesCategoryId: rig.archivesCategory.id,
    vintageCourseIds: () => prod.coursesUnder(rig.vintageCategory.id).map((c) => c.id),
    sessionInput: (overrides = {}) => rig.sessionInput({ session: `s${process.pid}-${n}-${Date.now()}`, ...overrides }),
    async runSession(input) {
      const handle = await startSession(client, rig.config, input);
      return handle.result();
    },
    async stop() {
      await workers.shutdown();
      await connection.close();
      await client.connection.close();
      await rig.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A stack's `configure` that moves prod's backups to archive over web services (the default is shared-path). */
export const moodleWs = (raw: Record<string, unknown>) => {
  raw.transports = [{ from: 'prod', to: 'archive', driver: 'moodle-ws' }];
};

/** A worker as its own process (all queues, or those given): what a fault test kills. */
export const workerProcess = (stack: Stack, configFile: string, queues?: string[]): WorkerProcess =>
  stack.workerProcess(queues, configFile);

/** Writes a config file for CLI runs (tokens stay out of it, in the environment). */
export const writeConfigFile = (stack: Stack, raw: unknown, name = 'bad.config.json'): string => stack.writeConfig(raw, name);

/** Polls a reading until it satisfies `ok` or the deadline passes (no fixed sleeps in tests). */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms; last value ${JSON.stringify(v)}`);
    // Each reading is a query or a list on a CPU-bound machine: often enough to catch a state, no more.
    await new Promise((r) => setTimeout(r, 400));
  }
}

/** Runs the `temporal` CLI against the test server, as an operator would. */
export async function temporalCli(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(temporalBinary(), [
    ...args,
    '--address',
    inject('temporalAddress'),
    '--namespace',
    testNamespace,
  ]);
  return stdout;
}

/** The CLI as operators run it: the build `npm test` made (scripts/setup.sh), started in well under a second. */
export const CLI_BUILD = 'dist/cli.mjs';

/** Runs the CLI with these arguments; rejects with its exit code and stderr when it fails. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [CLI_BUILD, ...args], { env: { ...process.env, ...env } });
}

/** How a CLI run that should fail ended: its exit code and output; null if it succeeded. */
export interface CliFailure {
  code: number;
  stdout: string;
  stderr: string;
}
export const cliFailure = (run: Promise<unknown>): Promise<CliFailure | null> =>
  run.then(
    () => null,
    (e: CliFailure) => e,
  );

/** Runs our own CLI with the stack's config file and tokens. */
export async function archiverCli(stack: Stack, args: string[]): Promise<string> {
  const file = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
  return (await runCli(['--config', file, ...args], stack.env)).stdout;
}
