// The real sites of the suite, seen as an administrator sees them: the
// stand-up's sites.json, courses made with Moodle's own generator, the
// archiver's config written for them, its worker as a process and its CLI
// from the build; and ways to read what the sites then hold (web services,
// and SQL for what no configured web service shows).
import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { sessionStatus, type SessionStatus } from '../../client/sessions';
import { MoodleClient } from '../../activities/moodle/client';
import { courseWorkflowId, tokenEnvName } from '../../contract';
import { PHASE_NAMES, type PhaseName } from '../../workflows/phases';
import { DurationPredictor, phaseCosts, phaseHosts } from '../../workflows/prediction';
import type { CourseResult } from '../../workflows/types';
import { workerProcess, type WorkerProcess } from '../../rig/rig';
import { parseConfig } from '../../workers/config';
import { runCli, until } from '../harness';

const run = promisify(execFile);

export interface RealSite {
  id: string;
  wwwroot: string;
  token: string;
  moodleDir: string;
  dataroot: string;
  cli: string[];
  staging: string;
  pgPort: number;
  dbName: string;
}

export const realSites = (): { sites: RealSite[]; makeCourses: string } => JSON.parse(readFileSync(inject('sitesJson'), 'utf8'));

export function site(id: string): RealSite {
  const s = realSites().sites.find((x) => x.id === id);
  if (!s) throw new Error(`no site ${id} in ${inject('sitesJson')}`);
  return s;
}

export const client = (id: string) => new MoodleClient({ siteId: id, url: site(id).wwwroot, token: site(id).token });

export interface MadeCourses {
  category: { id: number; path: string };
  courses: { id: number; shortname: string; fullname: string }[];
}

/** Courses made by Moodle's generator (make-courses.php), with students shared between them as on a real site. */
export async function makeCourses(
  siteId: string,
  opts: { category: string; shortnames: string[]; fullnames?: string[]; sharedUsers?: number; size?: 'XS' | 'S' },
): Promise<MadeCourses> {
  const s = site(siteId);
  const [bin, ...pre] = s.cli;
  const args = [
    ...pre,
    realSites().makeCourses,
    `--moodle=${s.moodleDir}`,
    `--category=${opts.category}`,
    `--shortnames=${opts.shortnames.join(',')}`,
    ...(opts.fullnames ? [`--fullnames=${opts.fullnames.join('|')}`] : []),
    `--size=${opts.size ?? 'XS'}`,
    `--shared-users=${opts.sharedUsers ?? 3}`,
  ];
  const { stdout } = await run(bin, args, { maxBuffer: 10 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** One SQL query on a site's database; rows as arrays of strings. */
export async function sql(siteId: string, query: string): Promise<string[][]> {
  const s = site(siteId);
  const { stdout } = await run('psql', [
    '-h',
    '127.0.0.1',
    '-p',
    String(s.pgPort),
    '-U',
    'postgres',
    '-d',
    s.dbName,
    '-qtAF',
    '\t',
    '-c',
    query,
  ]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/** Runs one of the site's admin CLI scripts (e.g. admin/cli/cfg.php) as its CLI user. */
export async function adminCli(siteId: string, script: string, args: string[]): Promise<string> {
  const s = site(siteId);
  const [bin, ...pre] = s.cli;
  return (await run(bin, [...pre, join(s.moodleDir, script), ...args])).stdout;
}

/** A teacher's edit of a course, by Moodle's own API (scripts/teacher-edits.php: settings, addpage, section, uploadfile…). */
export async function teacherEdit(siteId: string, courseId: number, edit: string): Promise<void> {
  const s = site(siteId);
  const [bin, ...pre] = s.cli;
  await run(bin, [...pre, join(import.meta.dirname, '..', '..', 'scripts', 'teacher-edits.php'), s.moodleDir, edit, String(courseId)]);
}

/** Students enrolled in a course, by username: what a restore must bring along. */
export async function enrolledUsernames(siteId: string, courseId: number): Promise<string[]> {
  const rows = await sql(
    siteId,
    `SELECT DISTINCT u.username FROM mdl_user u JOIN mdl_user_enrolments ue ON ue.userid = u.id JOIN mdl_enrol e ON e.id = ue.enrolid WHERE e.courseid = ${Number(courseId)} ORDER BY 1`,
  );
  return rows.map((r) => r[0]);
}

/** Courses a failed restore left behind ("Course restoration in progress", shortname restoring…). */
export async function restorePlaceholders(siteId: string): Promise<string[]> {
  return (await sql(siteId, `SELECT shortname FROM mdl_course WHERE shortname ~ '^restoring(_[0-9]+)?$'`)).map((r) => r[0]);
}

/** Starts a session of the 2024-2025 vintage from prod with our CLI (`start` and its options), failures held 1 h. */
export async function startSession(d: Deployment, session: string, options: string[]): Promise<string> {
  return d.cli(['start', '--session', session, '--vintage', '2024-2025', '--source-site', 'prod', '--failure-hold', '1', ...options]);
}

/** Starts a session (startSession) and waits until every course is archived or failed. */
export async function runSession(d: Deployment, session: string, options: string[], courses: number): Promise<SessionStatus> {
  await startSession(d, session, options);
  const temporal = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  try {
    return await until(
      () => sessionStatus(temporal, session),
      (s) => s.counts.succeeded + s.counts.failed + s.counts.skipped === courses,
      240_000,
    );
  } finally {
    await temporal.connection.close();
  }
}

/** Per phase: the seconds each course of a session took on the real sites, and what the model's defaults predict. */
export interface PhaseFigures {
  phase: PhaseName;
  measured: number[];
  predicted: number[];
}

/**
 * Reads each course's phase times from its workflow's result and sets them beside the built-in duration model's
 * defaults for the course's size; appends them to .data/moodle-phase-times.jsonl (the README's real-site figures).
 */
export async function phaseFigures(session: string, courses: { id: number; bytes: number; activities: number }[]): Promise<PhaseFigures[]> {
  const temporal = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  const model = new DurationPredictor(phaseCosts(), {}, phaseHosts({ sourceSiteId: 'prod', targetSiteId: 'archive' }));
  const rows = PHASE_NAMES.map((phase) => ({ phase, measured: [] as number[], predicted: [] as number[] }));
  try {
    for (const c of courses) {
      const result = await temporal.workflow.getHandle(courseWorkflowId(session, c.id)).result();
      for (const row of rows) {
        const t = (result as CourseResult).facts.phaseTimes[row.phase];
        if (!t) continue;
        row.measured.push((Date.parse(t[1]) - Date.parse(t[0])) / 1000);
        row.predicted.push(model.phaseSeconds(row.phase, { bytes: c.bytes, activities: c.activities }));
      }
    }
  } finally {
    await temporal.connection.close();
  }
  mkdirSync('.data', { recursive: true });
  appendFileSync('.data/moodle-phase-times.jsonl', `${JSON.stringify({ session, at: new Date().toISOString(), rows })}\n`);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  console.log(
    `[test:moodle] ${session}, ${courses.length} course(s), seconds per phase (measured mean / model default):\n` +
      rows.map((r) => `  ${r.phase.padEnd(12)} ${mean(r.measured).toFixed(2).padStart(6)} / ${mean(r.predicted).toFixed(2)}`).join('\n'),
  );
  return rows;
}

export interface Deployment {
  dir: string;
  configFile: string;
  env: Record<string, string>;
  worker: WorkerProcess;
  /** Our CLI with this deployment's config; a non-zero exit rejects with its output. */
  cli(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** The archiver deployed on the real sites as the README tells an administrator to: config, tokens, one worker. */
export async function deploy(
  name: string,
  /** Changes to the config, and to the worker's environment (its tokens). */
  configure: (raw: Record<string, unknown>, env: Record<string, string>) => void = () => {},
  /** The queues its worker polls (default: all); a test starts the others' workers itself. */
  queues?: string[],
): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), `archiver-${name}-`));
  const sites: Record<string, unknown> = {};
  const env: Record<string, string> = {};
  for (const s of realSites().sites) {
    sites[s.id] = {
      url: s.wwwroot,
      staging: s.staging,
      cli: { command: s.cli, moodleDir: s.moodleDir, timeoutSeconds: 600 },
      maxConcurrentJobs: 2,
    };
    env[tokenEnvName(s.id)] = s.token;
  }
  const raw: Record<string, unknown> = {
    temporal: { address: inject('temporalAddress'), namespace: 'default' },
    mainQueue: `archive-main-${name}`,
    catalog: { url: `file:${join(dir, 'catalog.sqlite')}` },
    sites,
    logLevel: 'info',
  };
  configure(raw, env);
  parseConfig(raw, { env }); // refused here rather than in the worker's log
  const configFile = join(dir, 'archiver.config.json');
  writeFileSync(configFile, JSON.stringify(raw, null, 2));
  const worker = workerProcess(configFile, env, queues, inject('workflowBundlePath'));
  await worker.started;
  return {
    dir,
    configFile,
    env,
    worker,
    cli: async (args) => (await runCli(['--config', configFile, ...args], env)).stdout,
    // Its log stays beside the config, for whoever reads a failure.
    stop: async () => {
      await worker.stop();
      writeFileSync(join(dir, 'worker.log'), worker.output());
    },
  };
}
