// The Moodle simulator: one process serving several sites, each on its own
// loopback port, speaking Moodle's REST protocol. Admin-CLI stand-ins (run as
// separate processes, like Moodle's own CLI scripts) reach the site's
// "database" through an internal endpoint guarded by a per-site secret.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { runPhp } from './php';
import { mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  accessDenied,
  databaseReadError,
  errorBody,
  invalidParameter,
  invalidToken,
  missingCapability,
  MoodleException,
  missingRecord,
  siteMaintenance,
} from './errors';
import { FUNCTIONS } from './functions';
import { handlePluginfile, handleSessionPluginfile, handleUpload, type DownloadStats } from './files';
import { decodePhpForm, InvalidParameter, validateParameters } from './params';
import { NOW, SiteStore, type SimCourse, type SimFault } from './state';
import type { BackupContents } from './mbz';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/**
 * Loads the bundle through V8's code cache, written by the first run that
 * lacks it (whole, by rename: runs start in parallel). A test run starts
 * hundreds of stand-in scripts, and compiling the bundle was a quarter of
 * each one's CPU.
 */
const PHP_LAUNCHER = `'use strict';
const { Script } = require('node:vm');
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { wrap } = require('node:module');
const file = require('node:path').join(__dirname, 'php-main.cjs');
let cachedData;
try { cachedData = readFileSync(file + '.cache'); } catch {}
const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
if (!cachedData || script.cachedDataRejected)
  process.once('exit', () => {
    try {
      writeFileSync(file + '.cache.' + process.pid, script.createCachedData());
      renameSync(file + '.cache.' + process.pid, file + '.cache');
    } catch {}
  });
script.runInThisContext()(exports, require, module, file, __dirname);
`;

/**
 * Bundles the admin-CLI stand-in into one plain script, so each run
 * starts like a real `php` does, in a fraction of a second (tsx would
 * compile TypeScript at every start).
 */
async function buildPhpStandIn(dataDir: string): Promise<string[]> {
  const bin = join(dataDir, 'bin');
  await build({
    entryPoints: [fileURLToPath(new URL('./php.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: join(bin, 'php-main.cjs'),
    logLevel: 'error',
  });
  writeFileSync(join(bin, 'php.cjs'), PHP_LAUNCHER);
  return [process.execPath, join(bin, 'php.cjs')];
}

/** The `php` command of a host whose admin scripts run in the simulator's process (scriptsInServer). */
export const phpInServer = () => ['bash', fileURLToPath(new URL('./php-in-server.sh', import.meta.url))];

export interface RunningSite {
  siteId: string;
  url: string;
  store: SiteStore;
  /** Folder that stands for the Moodle code directory (holds admin/cli/*.php). */
  moodleDir: string;
  /** Admin scripts running now on this host, the most that ever ran at once, and how many started, by script and 'all'. */
  scripts: { running: Record<string, number>; peak: Record<string, number>; started: Record<string, number> };
  /** What its file endpoint sent. */
  downloads: DownloadStats;
  /** Holds admin scripts at their start while closed: tests use it to catch courses in a known phase. */
  gates: ScriptGates;
  /** Users being created by running restores (username → restoring course id), and the restores that collided. */
  userClaims: Map<string, number>;
  restoreCollisions: number;
}

/** One gate per script name (e.g. 'backup.php'); all open unless a test closes one. */
export class ScriptGates {
  private readonly closed = new Map<string, (() => void)[]>();

  close(script: string): void {
    if (!this.closed.has(script)) this.closed.set(script, []);
  }

  /** Opens the gate and lets every held script go on. */
  open(script: string): void {
    for (const release of this.closed.get(script) ?? []) release();
    this.closed.delete(script);
  }

  /** Scripts held at this gate now. */
  waiting(script: string): number {
    return this.closed.get(script)?.length ?? 0;
  }

  pass(script: string): Promise<void> | undefined {
    const held = this.closed.get(script);
    return held && new Promise<void>((release) => held.push(release));
  }
}

export interface RunningSimulator {
  sites: Record<string, RunningSite>;
  /** The stand-in for `php` on these sites' hosts, as a command line. */
  phpCommand: string[];
  stop(): Promise<void>;
}

const CLI_SCRIPTS = ['backup.php', 'restore_backup.php', 'delete_course.php'];

/** Functions a real Moodle has that the simulator does not serve: a token without them is refused as on a real site. */
const OTHER_CORE_FUNCTIONS = new Set([
  'core_user_get_users',
  'core_user_get_users_by_field',
  'core_files_upload',
  'core_enrol_get_enrolled_users',
  'core_course_duplicate_course',
  'core_course_import_course',
  'core_course_get_course_module',
  'core_backup_get_async_backup_progress',
]);

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const readBody = async (req: IncomingMessage) => (await readRaw(req)).toString('utf8');

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0',
    'Accept-Ranges': 'none',
    'Access-Control-Allow-Origin': '*',
  });
  res.end(body);
}

function xmlValue(v: unknown, indent = ''): string {
  if (v === null || v === undefined) return `${indent}<VALUE null="null"/>\n`;
  if (Array.isArray(v)) return `${indent}<MULTIPLE>\n${v.map((x) => xmlValue(x, indent)).join('')}${indent}</MULTIPLE>\n`;
  if (typeof v === 'object') {
    return `${indent}<SINGLE>\n${Object.entries(v as Record<string, unknown>)
      .map(
        ([k, x]) =>
          `${indent}<KEY name="${k}">${typeof x === 'object' && x !== null ? `\n${xmlValue(x, indent)}${indent}` : xmlValue(x).trim()}</KEY>\n`,
      )
      .join('')}${indent}</SINGLE>\n`;
  }
  const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  return `<VALUE>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</VALUE>`;
}

/** An injected failure in place of the answer; 'slow' only delays it. Returns true when the call is answered. */
async function applyRestFault(site: RunningSite, params: URLSearchParams, res: ServerResponse): Promise<boolean> {
  const fault = site.store.takeRestFault(params.get('wsfunction'));
  const moodleError = (err: MoodleException) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(errorBody(err, site.store.data.settings)));
    return true;
  };
  switch (fault?.kind) {
    case undefined:
      return false;
    case 'webservices-disabled':
      res.writeHead(403).end();
      return true;
    case 'http-503':
      res.writeHead(503, { 'Content-Type': 'text/html' }).end('<h1>503 Service Unavailable</h1>');
      return true;
    case 'drop-connection':
      res.socket?.destroy();
      return true;
    case 'dml-read':
      return moodleError(databaseReadError());
    case 'maintenance':
      return moodleError(siteMaintenance());
    case 'nopermissions':
      return moodleError(missingCapability('Delete courses'));
    case 'slow':
      await new Promise((r) => setTimeout(r, (fault.seconds ?? 5) * 1000));
      return false;
    case 'echo-in-debuginfo':
      return moodleError(
        new MoodleException(
          'invalid_parameter_exception',
          'invalidparameter',
          'Invalid parameter value detected',
          `SELECT * FROM {external_tokens} WHERE token = ? [array (0 => '${params.get('wstoken')}')] request ${JSON.stringify(params.toString())}`,
        ),
      );
    case 'echo-in-html':
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<pre>${params.toString().replace(/&/g, '&amp;')}</pre><b>Warning</b>: unexpected input in <b>server.php</b>`);
      return true;
    case 'redirect':
      res.writeHead(303, { Location: `https://elsewhere.example.edu/login/index.php?${params.toString()}` }).end();
      return true;
  }
}

function handleRest(site: RunningSite, params: URLSearchParams, res: ServerResponse): void {
  const settings = site.store.data.settings;
  const format = params.get('moodlewsrestformat') === 'json' ? 'json' : 'xml';
  const reply = (body: unknown) => {
    if (format === 'json') send(res, 200, JSON.stringify(body), 'application/json');
    else
      send(
        res,
        200,
        `<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n${xmlValue(body)}</RESPONSE>\n`,
        'application/xml; charset=utf-8',
      );
  };
  const fail = (err: MoodleException) => {
    const body = errorBody(err, settings);
    if (format === 'json') send(res, 200, JSON.stringify(body), 'application/json');
    else
      send(
        res,
        200,
        `<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="${body.exception}">\n<ERRORCODE>${body.errorcode}</ERRORCODE>\n<MESSAGE>${body.message}</MESSAGE>\n${body.debuginfo ? `<DEBUGINFO>${body.debuginfo}</DEBUGINFO>\n` : ''}</EXCEPTION>\n`,
        'application/xml; charset=utf-8',
      );
  };
  try {
    // Moodle's order: authenticate, then find the function, then check the service, then validate.
    const token = params.get('wstoken') ?? '';
    const grant = settings.tokens[token];
    if (!grant) throw invalidToken();
    const fnName = params.get('wsfunction');
    if (!fnName) throw invalidParameter('Missing function name');
    const fn = FUNCTIONS[fnName];
    if (!fn && !OTHER_CORE_FUNCTIONS.has(fnName))
      throw missingRecord('external_functions', 'SELECT * FROM {external_functions} WHERE name = ?', fnName);
    if (grant.functions && !grant.functions.includes(fnName)) throw accessDenied(fnName);
    if (!fn) throw new MoodleException('moodle_exception', 'generalexceptionmessage', `Exception - ${fnName} is not simulated`);
    const rest = [...params.entries()].filter(
      ([k]) => !['wstoken', 'wsfunction', 'moodlewsrestformat'].includes(k) && !k.startsWith('moodlewssetting'),
    );
    let validated: Record<string, unknown>;
    try {
      validated = validateParameters(fn.params, decodePhpForm(rest));
    } catch (e) {
      if (e instanceof InvalidParameter) throw invalidParameter(e.debuginfo);
      throw e;
    }
    reply(fn.run(site.store, validated, site.url, grant.functions));
  } catch (e) {
    if (e instanceof MoodleException) fail(e);
    else if (e instanceof InvalidParameter) fail(invalidParameter(e.debuginfo));
    else fail(new MoodleException('moodle_exception', 'generalexceptionmessage', `Exception - ${(e as Error).message}`));
  }
}

/** The "database" operations the admin-CLI stand-ins need; none of them is a web service. */
function handleInternal(site: RunningSite, op: string, args: Record<string, unknown>): unknown {
  const store = site.store;
  switch (op) {
    case 'settings':
      return store.data.settings;
    case 'course': {
      const c = store.course(Number(args.id));
      return c ? { course: c, category: store.category(c.category) } : { course: null };
    }
    case 'category':
      return { category: store.category(Number(args.id)) ?? null };
    case 'scriptStarted': {
      const { running, peak, started } = site.scripts;
      for (const name of [String(args.script), 'all']) {
        started[name] = (started[name] ?? 0) + 1;
        running[name] = (running[name] ?? 0) + 1;
        peak[name] = Math.max(peak[name] ?? 0, running[name]);
      }
      return {};
    }
    case 'passGate':
      return site.gates.pass(String(args.script))?.then(() => ({})) ?? {};
    case 'scriptEnded':
      for (const name of [String(args.script), 'all']) site.scripts.running[name]--;
      return {};
    case 'takeFault':
      return { fail: store.takeFault(args.script as SimFault['script'], args as { id?: number; shortname?: string }) };
    case 'createRestoringCourse': {
      // restore_dbops::create_new_course: an empty course first, filled later.
      const names = store.uniqueCourseNames('Course restoration in progress', 'restoring');
      const course: SimCourse = {
        id: store.newId('course'),
        category: Number(args.categoryId),
        fullname: names.fullname,
        shortname: names.shortname,
        idnumber: '',
        summary: '',
        format: 'topics',
        startdate: 0,
        enddate: 0,
        visible: 0, // hidden while it is restored, as Moodle's
        contextid: store.newId('context'),
        timecreated: NOW(),
        timemodified: NOW(),
        sections: [],
      };
      store.data.courses.push(course);
      store.saveSoon();
      return { id: course.id };
    }
    case 'claimUsers': {
      // A restore creates the users its course enrols that the site lacks, inside its transaction: a second
      // restore creating one of them meanwhile fails on PostgreSQL's unique key (mnethostid, username).
      const id = Number(args.id);
      const have = new Set(store.data.users ?? []);
      const fresh = (args.usernames as string[]).filter((u) => !have.has(u));
      const taken = fresh.find((u) => site.userClaims.has(u) && site.userClaims.get(u) !== id);
      if (taken) {
        site.restoreCollisions++;
        return { collision: taken };
      }
      for (const u of fresh) site.userClaims.set(u, id);
      return { collision: null };
    }
    case 'releaseUsers':
      for (const [u, id] of site.userClaims) if (id === Number(args.id)) site.userClaims.delete(u);
      return {};
    case 'fillRestoredCourse': {
      const course = store.course(Number(args.id));
      if (!course) throw new Error('restored course vanished');
      const backup = args.backup as BackupContents;
      course.students = [...backup.users];
      store.data.users = [...new Set([...(store.data.users ?? []), ...backup.users])];
      const stored = args.storedFiles as Record<string, number>; // contenthash -> bytes on disk
      const names = store.uniqueCourseNames(backup.course.fullname, backup.course.shortname);
      Object.assign(course, {
        fullname: names.fullname,
        shortname: names.shortname,
        idnumber: '', // a restore to another site always clears idnumber
        summary: backup.course.summary,
        format: backup.course.format,
        startdate: backup.course.startdate,
        enddate: backup.course.enddate,
        visible: backup.course.visible,
        timemodified: NOW(),
      });
      course.sections = [...backup.sections]
        .sort((a, b) => a.number - b.number)
        .map((s) => ({
          id: store.newId('section'),
          section: s.number,
          name: s.name,
          summary: s.summary,
          visible: s.visible,
          modules: backup.activities
            .filter((a) => a.sectionid === s.id)
            .map((a) => ({
              id: store.newId('module'),
              modname: a.modulename,
              name: a.title,
              instance: a.moduleid,
              contextid: store.newId('context'),
              visible: a.visible,
              files: backup.files
                .filter((f) => f.contextid === a.contextid && f.filename !== '.')
                .map((f) => ({
                  id: store.newId('file'),
                  filename: f.filename,
                  filepath: f.filepath,
                  filesize: f.filesize,
                  bytes: stored[f.contenthash] ?? 0,
                  mimetype: f.mimetype,
                  contenthash: f.contenthash,
                  timecreated: f.timecreated,
                  timemodified: f.timemodified,
                })),
            })),
        }));
      store.saveSoon();
      return { id: course.id };
    }
    case 'deleteCourse': {
      const idx = store.data.courses.findIndex((c) => c.id === Number(args.id));
      if (idx < 0) return { deleted: false };
      const [course] = store.data.courses.splice(idx, 1);
      rmSync(store.layout.backupArea(course.id), { recursive: true, force: true }); // the course context's files go with it
      store.saveSoon();
      return { deleted: true, course };
    }
    default:
      throw new Error(`unknown internal op ${op}`);
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Installs the stand-in admin/cli scripts so `php <moodleDir>/admin/cli/backup.php` has a real path. */
function installCliScripts(moodleDir: string): void {
  const cliDir = join(moodleDir, 'admin', 'cli');
  mkdirSync(cliDir, { recursive: true });
  for (const script of CLI_SCRIPTS) {
    const p = join(cliDir, script);
    if (!existsSync(p)) writeFileSync(p, `<?php\n// Stand-in for Moodle's admin/cli/${script}; run by simulator/php.ts.\n`);
  }
}

/** The last line of an admin script's answer when it runs in the simulator's process (simulator/php-in-server.sh). */
const PHP_EXIT = '__php_exit ';

export async function startSimulator(opts: {
  dataDir: string;
  sites: { siteId: string; port?: number }[];
  /** Admin scripts run inside this process (benchmarks) instead of as a node process each (tests, the demo). */
  scriptsInServer?: boolean;
}): Promise<RunningSimulator> {
  const running: Record<string, RunningSite> = {};
  const servers: Server[] = [];
  for (const { siteId, port = 0 } of opts.sites) {
    const siteDir = join(opts.dataDir, siteId);
    const store = new SiteStore(siteDir);
    const secret = randomBytes(16).toString('hex');
    const site: RunningSite = {
      siteId,
      url: '',
      store,
      moodleDir: siteDir,
      scripts: { running: {}, peak: {}, started: {} },
      gates: new ScriptGates(),
      userClaims: new Map(),
      restoreCollisions: 0,
      downloads: { bytesSent: 0, backups: [] },
    };
    const server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const wait = store.data.settings.latency.requestSeconds;
        if (wait && !url.pathname.startsWith('/__sim/')) await new Promise((r) => setTimeout(r, wait * 1000));
        if (url.pathname === '/webservice/upload.php' && req.method === 'POST')
          return await handleUpload(store, req, await readRaw(req), res);
        if (url.pathname.startsWith('/webservice/pluginfile.php/')) {
          // A site that is down (a 503 on every web-service call) serves no file either.
          if (store.data.restFaults?.some((f) => f.kind === 'http-503' && f.function === undefined)) return void res.writeHead(503).end();
          return await handlePluginfile(store, url, req, res, site.downloads);
        }
        if (url.pathname.startsWith('/pluginfile.php/')) return handleSessionPluginfile(site.url, res);
        if (url.pathname === '/__sim/php' && req.headers['x-sim-secret'] === secret) {
          // An admin script run here (scriptsInServer): its arguments each ended by a NUL byte; its output streamed,
          // then its exit code on a last line.
          const argv = (await readBody(req)).split('\0').slice(0, -1);
          res.writeHead(200, { 'content-type': 'text/plain' });
          let last = '\n';
          const write = (t: string) => {
            if (t) last = t.at(-1)!;
            res.write(t);
          };
          const code = await runPhp(argv, write, write);
          return void res.end(`${last === '\n' ? '' : '\n'}${PHP_EXIT}${code}\n`);
        }
        const body = req.method === 'POST' ? await readBody(req) : '';
        if (url.pathname === '/webservice/rest/server.php') {
          const params = new URLSearchParams(url.search);
          if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
            for (const [k, v] of new URLSearchParams(body)) params.set(k, v); // POST wins, as in array_merge($_GET, $_POST)
          }
          if (!(await applyRestFault(site, params, res))) handleRest(site, params, res);
        } else if (url.pathname.startsWith('/__sim/') && req.headers['x-sim-secret'] === secret) {
          try {
            const result = await handleInternal(site, url.pathname.slice('/__sim/'.length), body ? JSON.parse(body) : {});
            send(res, 200, JSON.stringify(result), 'application/json');
          } catch (e) {
            send(res, 500, JSON.stringify({ error: (e as Error).message }), 'application/json');
          }
        } else {
          send(res, 404, '', 'text/html');
        }
      })().catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, String(e), 'text/plain');
      });
    });
    const actualPort = await listen(server, port);
    site.url = `http://127.0.0.1:${actualPort}`;
    installCliScripts(siteDir);
    writeFileSync(store.layout.configFile, JSON.stringify({ wwwroot: site.url, secret }));
    servers.push(server);
    running[siteId] = site;
  }
  return {
    sites: running,
    phpCommand: opts.scriptsInServer ? phpInServer() : await buildPhpStandIn(opts.dataDir),
    async stop() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
      for (const site of Object.values(running)) site.store.flush();
    },
  };
}
