// The simulated rig: a whole deployment on one machine, for the tests, the
// bench and the demo. Two simulated Moodle sites (prod with its vintages,
// archive with its Archives category), the workers' config written as an
// operator would (tokens in the environment, under the config's own variable
// names), and the workers, in this process or as their own processes.
import type { NativeConnection } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateSessionInput } from '../client/session-input';
import { tokenEnvName, type ArchiverConfig } from '../contract';
import { seedDemoSites } from '../simulator/seed';
import { startSimulator, type RunningSimulator } from '../simulator/server';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../workers/node-flags';
import type { SimCategory, SiteSettings } from '../simulator/state';
import { parseConfig } from '../workers/config';
import { startWorkers, type RunningWorkers } from '../workers/run';
import type { SessionInput } from '../workflows/types';

// The worker as production runs it: its build (npm run build), without a TypeScript loader (about 100 MB less).
const WORKER_MAIN = fileURLToPath(new URL('../dist/worker.mjs', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The vintage the demo and the tests archive, and the category that receives it. */
export const DEMO_VINTAGE = '2024-2025';
const ARCHIVES_IDNUMBER = 'ARCHIVES';

export interface RigOptions {
  /** A fresh folder: the sites, staging folders, catalog and config live under it. */
  dir: string;
  courses: number;
  temporalAddress: string;
  /** Scale of the generated file content (1: the demo's sizes). */
  contentScale?: number;
  latency?: SiteSettings['latency'];
  mainQueue?: string;
  /** The Temporal namespace (default: "default"). */
  namespace?: string;
  maxConcurrentJobs?: number;
  logLevel?: ArchiverConfig['logLevel'];
  /** Changes the raw config (storages, transports, retention, notifications) before anything reads it. */
  configure?: (raw: Record<string, unknown>, dir: string) => void;
  /** Workflows bundled beforehand (workers/run.ts writeWorkflowBundle): worker processes start from it. */
  workflowBundlePath?: string;
  /** The sites' admin scripts run inside the simulator's process, not as a node process each (benchmarks). */
  scriptsInServer?: boolean;
}

/** A worker as its own process: what production runs, what a fault test kills, and what the real-Moodle suite runs. */
export interface WorkerProcess {
  proc: ChildProcess;
  /** Resolves once it logged that its workers started; rejects if it exits first. */
  started: Promise<void>;
  exited: Promise<number | null>;
  /** What it printed (the last 20,000 characters). */
  output(): string;
  stop(): Promise<void>;
}

export interface Rig {
  dir: string;
  sim: RunningSimulator;
  /** The config as written to `configFile`; tokens are in `env`, as in production. */
  rawConfig: Record<string, unknown> & { sites: Record<string, Record<string, unknown>> };
  env: Record<string, string>;
  config: ArchiverConfig;
  configFile: string;
  /** The vintage category on prod, and the Archives category on archive. */
  vintageCategory: SimCategory;
  archivesCategory: SimCategory;
  /** A checked session input that archives the vintage into Archives; overrides change it. */
  sessionInput(overrides?: Partial<SessionInput>): SessionInput;
  /** Writes another config next to the rig's (a broken one, a changed one) and returns its path. */
  writeConfig(raw: unknown, name: string): string;
  startWorkers(opts?: { connection?: NativeConnection; workflowBundle?: { code: string }; queues?: string[] }): Promise<RunningWorkers>;
  workerProcess(queues?: string[], configFile?: string): WorkerProcess;
  stop(): Promise<void>;
}

export async function startRig(opts: RigOptions): Promise<Rig> {
  const { dir } = opts;
  const moodleDir = join(dir, 'moodle');
  seedDemoSites({ dataDir: moodleDir, courses: opts.courses, contentScale: opts.contentScale, latency: opts.latency });
  const sim = await startSimulator({
    dataDir: moodleDir,
    sites: [{ siteId: 'prod' }, { siteId: 'archive' }],
    scriptsInServer: opts.scriptsInServer,
  });
  const sites: Record<string, Record<string, unknown>> = {};
  const env: Record<string, string> = {};
  for (const [siteId, site] of Object.entries(sim.sites)) {
    const staging = join(dir, 'staging', siteId);
    mkdirSync(staging, { recursive: true });
    sites[siteId] = {
      url: site.url,
      staging,
      cli: { command: sim.phpCommand, moodleDir: site.moodleDir, timeoutSeconds: 600 },
      maxConcurrentJobs: opts.maxConcurrentJobs ?? 4,
      // The seeded courses share no students, so their restores do not collide: as many at once as the host allows.
      restoresAtOnce: opts.maxConcurrentJobs ?? 4,
    };
    env[tokenEnvName(siteId)] = Object.keys(site.store.data.settings.tokens)[0];
  }
  const rawConfig = {
    temporal: { address: opts.temporalAddress, namespace: opts.namespace ?? 'default' },
    mainQueue: opts.mainQueue ?? 'archive-main',
    catalog: { url: `file:${join(dir, 'catalog.sqlite')}` },
    sites,
    logLevel: opts.logLevel ?? 'info',
  } as Rig['rawConfig'];
  opts.configure?.(rawConfig, dir);
  const writeConfig = (raw: unknown, name: string) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(raw, null, 2));
    return file;
  };
  const configFile = writeConfig(rawConfig, 'archiver.config.json');
  const config = parseConfig(rawConfig, { env });
  const vintageCategory = sim.sites.prod.store.data.categories.find((c) => c.idnumber === DEMO_VINTAGE)!;
  const archivesCategory = sim.sites.archive.store.data.categories.find((c) => c.idnumber === ARCHIVES_IDNUMBER)!;
  return {
    dir,
    sim,
    rawConfig,
    env,
    config,
    configFile,
    vintageCategory,
    archivesCategory,
    writeConfig,
    sessionInput: (overrides = {}) =>
      validateSessionInput(
        {
          session: `rig-${Date.now()}`,
          vintage: DEMO_VINTAGE,
          sourceSiteId: 'prod',
          sourceCategoryId: vintageCategory.id,
          includeSubcategories: true,
          targetSiteId: 'archive',
          targetCategoryId: archivesCategory.id,
          mirrorSubcategories: true,
          concurrency: 5,
          deleteSource: true,
          ...overrides,
        },
        config,
      ),
    startWorkers: (o = {}) => startWorkers({ config, ...o }),
    workerProcess: (queues, file = configFile) => workerProcess(file, env, queues, opts.workflowBundlePath),
    stop: () => sim.stop(),
  };
}

export function workerProcess(
  configFile: string,
  env: Record<string, string>,
  queues?: string[],
  workflowBundlePath?: string,
): WorkerProcess {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run npm run build (npm test and npm run setup do)`);
  const args = [
    ...WORKER_NODE_FLAGS,
    ...[WORKER_MAIN, '--config', configFile],
    ...(queues ? ['--queues', queues.join(',')] : []),
    ...(workflowBundlePath ? ['--workflow-bundle', workflowBundlePath] : []),
  ];
  const proc = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, ...WORKER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const started = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (out.includes('workers started')) {
        proc.stdout!.off('data', check);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`the worker exited (${code}) before it started: ${out}`)));
  });
  started.catch(() => undefined); // a caller that never awaits it is told by `exited`
  return {
    proc,
    started,
    exited,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      // A worker that has not exited 20 s after SIGTERM is killed: a test's worker never outlives its stack.
      const kill = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(kill);
    },
  };
}
