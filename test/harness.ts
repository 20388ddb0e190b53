// One test stack: simulated prod and archive sites seeded in a temp folder,
// workers on the shared dev server (with the shared bundle), and a client.
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Catalog } from '../activities/catalog';
import { validateSessionInput } from '../client/session-input';
import { startSession } from '../client/sessions';
import { simulatedSitesConfig } from '../simulator/archiver-config';
import { seedDemoSites } from '../simulator/seed';
import type { SiteSettings } from '../simulator/state';
import { temporalBinary } from '../client/dev-server';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { parseConfig, type ArchiverConfig } from '../workers/config';
import { startWorkers, type RunningWorkers } from '../workers/run';
import type { SessionInput } from '../workflows/types';

let counter = 0;

// Warnings and errors only: the worker's lifecycle chatter hides test output.
try { Runtime.install({ logger: new DefaultLogger('WARN') }); } catch { /* already installed by another suite in this process */ }

export interface Stack {
  dir: string;
  sim: RunningSimulator;
  config: ArchiverConfig;
  rawConfig: Record<string, unknown>;
  env: Record<string, string>;
  client: Client;
  workers: RunningWorkers;
  catalog: Catalog;
  /** The vintage category on prod, and the Archives category on archive. */
  vintageCategoryId: number;
  archivesCategoryId: number;
  /** Courses of the vintage (category and subcategories) still on prod. */
  vintageCourseIds(): number[];
  sessionInput(overrides?: Partial<SessionInput>): SessionInput;
  runSession(input: SessionInput): Promise<Awaited<ReturnType<Awaited<ReturnType<typeof startSession>>['result']>>>;
  stop(): Promise<void>;
}

export async function startStack(opts: {
  courses: number; latency?: SiteSettings['latency']; maxConcurrentJobs?: number;
  /** False: no workers in this process (a test runs the worker command itself). */
  workers?: boolean;
  /** The config's notifications section. */
  notifications?: Record<string, unknown>;
  /** Changes the raw config (storages, transports, retention) before anything reads it. */
  configure?: (raw: Record<string, unknown>, dir: string) => void;
  /** A Temporal server of the test's own (the shared one by default). */
  temporalAddress?: string;
}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'archiver-stack-'));
  seedDemoSites({ dataDir: join(dir, 'moodle'), courses: opts.courses, contentScale: 0.0005, latency: opts.latency });
  const sim = await startSimulator({ dataDir: join(dir, 'moodle'), sites: [{ siteId: 'prod' }, { siteId: 'archive' }] });
  const address = opts.temporalAddress ?? inject('temporalAddress');
  const { config: rawConfig, env } = simulatedSitesConfig(sim, {
    dataDir: dir, temporalAddress: address, catalogFile: join(dir, 'catalog.sqlite'), mainQueue: `archive-main-${process.pid}-${++counter}`,
  });
  if (opts.notifications) (rawConfig as Record<string, unknown>).notifications = opts.notifications;
  opts.configure?.(rawConfig, dir);
  if (opts.maxConcurrentJobs) for (const site of Object.values(rawConfig.sites)) (site as { maxConcurrentJobs: number }).maxConcurrentJobs = opts.maxConcurrentJobs;
  const config = parseConfig(rawConfig, { env });
  const connection = await NativeConnection.connect({ address });
  const workers = opts.workers === false
    ? { catalog: await Catalog.open(config.catalog.url), done: Promise.resolve(), async shutdown() { await this.catalog!.close(); } }
    : await startWorkers({ config, connection, workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') } });
  const client = new Client({ connection: await Connection.connect({ address }) });
  const prod = sim.sites.prod.store;
  const vintageCategoryId = prod.data.categories.find((c) => c.idnumber === '2024-2025')!.id;
  const archivesCategoryId = sim.sites.archive.store.data.categories.find((c) => c.idnumber === 'ARCHIVES')!.id;
  const stack: Stack = {
    dir, sim, config, rawConfig, env, client, workers, catalog: workers.catalog!, vintageCategoryId, archivesCategoryId,
    vintageCourseIds: () => prod.coursesUnder(vintageCategoryId).map((c) => c.id),
    sessionInput: (overrides = {}) => validateSessionInput({
      session: `s${counter}-${Date.now()}`, vintage: '2024-2025', sourceSiteId: 'prod', sourceCategoryId: vintageCategoryId,
      includeSubcategories: true, targetSiteId: 'archive', targetCategoryId: archivesCategoryId, mirrorSubcategories: true,
      concurrency: 5, deleteSource: true, ...overrides,
    }, config),
    async runSession(input) {
      const handle = await startSession(client, config, input);
      return handle.result();
    },
    async stop() {
      await workers.shutdown();
      await connection.close();
      await client.connection.close();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** A worker as its own process (all queues, or those given): what a fault test kills. */
export function workerProcess(stack: Stack, configFile: string, queues?: string[]): { proc: ChildProcess; started: Promise<void>; exited: Promise<unknown> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--config', configFile, ...(queues ? ['--queues', queues.join(',')] : [])], {
    env: { ...process.env, ...stack.env, TEMPORAL_ADDRESS: stack.config.temporal.address }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise((r) => proc.once('exit', r));
  return { proc, exited, started: until(async () => out, (o) => o.includes('workers started'), 60_000).then(() => undefined) };
}

/** Writes a config file for CLI runs (tokens stay out of it, in the environment). */
export function writeConfigFile(stack: Stack, raw: unknown, name = 'bad.config.json'): string {
  const file = join(stack.dir, name);
  writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

/** Polls a reading until it satisfies `ok` or the deadline passes (no fixed sleeps in tests). */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs the `temporal` CLI against the test server, as an operator would. */
export async function temporalCli(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(temporalBinary(), [...args, '--address', inject('temporalAddress')]);
  return stdout;
}

/** Runs our own CLI with the stack's config file and tokens. */
export async function archiverCli(stack: Stack, args: string[]): Promise<string> {
  const file = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
  const { stdout } = await promisify(execFile)('node_modules/.bin/tsx', ['client/cli.ts', '--config', file, ...args], { env: { ...process.env, ...stack.env } });
  return stdout;
}
