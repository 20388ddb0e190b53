// The operator's CLI: plan, start and watch a session; pause (or drain),
// resume, change its concurrency, retry, skip, cancel; schedules per vintage;
// sessions list, course show, report; doctor.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure, WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, workflowLink } from '../workers/config';
import { DEFAULT_FAILURE_HOLD_HOURS } from '../workflows/archive-session';
import { sessionWorkflowId } from '../workflows/phases';
import { connectClient } from './connection';
import { progressBar, renderCourse, renderSchedule, renderStatus, renderUpcoming, table } from './render';
import { courseDetails, listSessions, sessionReport } from './inspect';
import { reportCsv, reportHtml } from './report';
import { expireDue, rebuildFromStorage, renderCatalogRows } from './catalog';
import { Catalog } from '../activities/catalog';
import { parseIdList, parseWindowOption, SessionInputError, validateScheduledSessionInput, validateSessionInput } from './session-input';
import { registerSearchAttributes } from './register-search-attributes';
import { doctorPassed, renderDoctor, runDoctor } from './doctor';
import { PLAN_FORMATS, renderPlan, runPlan } from './plan';
import { createSchedule, describeSchedule, listSchedules, triggerSchedule } from './schedules';
import {
  ActionRefused, cancelSession, pauseSession, resumeSession, retryCourses, sessionStatus, setConcurrency, skipCourses,
  startSession, type SessionStatus,
} from './sessions';

const int = (name: string) => (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
  return Number(v);
};
const num = (name: string) => (v: string) => {
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new InvalidArgumentError(`${name} must be a number`);
  return Number(v);
};
const collect = (v: string, all: string[] = []) => [...all, v];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const program = new Command().name('archiver').description('Archive Moodle course categories with Temporal')
  .option('-c, --config <file>', 'config file (or ARCHIVER_CONFIG)', process.env.ARCHIVER_CONFIG ?? 'archiver.config.json');

const config = () => loadConfig(program.opts<{ config: string }>().config, { requireTokens: false });

/** Runs one operator action on a session with a client, then closes it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes positional arguments untyped
const act = <A extends any[]>(fn: (client: Client, ...args: A) => Promise<void>) => async (...args: A) => {
  const client = await connectClient(config());
  try {
    await fn(client, ...args);
  } finally {
    await client.connection.close();
  }
};

/** Shows a session's status; with `untilSettled`, refreshes it until nothing is left to run. */
async function watch(session: string, opts: { everyMs: number; untilSettled: boolean; courses: number }) {
  const client = await connectClient(config());
  const live = opts.untilSettled && process.stdout.isTTY;
  const bar = progressBar();
  try {
    for (;;) {
      let s: SessionStatus;
      try {
        s = await sessionStatus(client, session, { courses: opts.courses });
      } catch (e) {
        // A missing session is final; anything else (a query during a roll-over, a network blip) is tried again.
        if (!opts.untilSettled || e instanceof WorkflowNotFoundError) throw e;
        process.stderr.write(`status unavailable for now (${(e as Error).message}); trying again\n`);
        await sleep(opts.everyMs);
        continue;
      }
      // On a terminal the table is redrawn in place, the bar below it; in a log, only the bar ticks.
      if (live) process.stdout.write(`\x1b[H\x1b[2J${renderStatus(session, s)}\n\n`);
      bar.update(s);
      if (s.finished || s.state === 'awaiting-decisions' || !opts.untilSettled) {
        bar.stop();
        if (!live) console.log(renderStatus(session, s));
        return s;
      }
      await sleep(opts.everyMs);
    }
  } finally {
    await client.connection.close();
  }
}

/** The options that say what a session archives and how: `start`, `plan` and `schedule create` share them. */
function sessionOptions(cmd: Command, what: { category: boolean }): Command {
  if (what.category) cmd.requiredOption('--category <id>', 'source category id', int('--category'));
  return cmd
    .requiredOption('--source-site <id>', 'source site id from the config')
    .requiredOption('--target-site <id>', 'target site id from the config')
    .option('--target-category <id>', 'target category id (a Moodle target; a cold storage has none)', int('--target-category'))
    .option('--also-category <ids>', 'more categories to archive, e.g. "40,41" (each mirrored from itself)')
    .option('--course <ids>', 'single courses to archive too, wherever they are, e.g. "1234,1240"')
    .option('--exclude-shortname <pattern>', 'leave out courses whose shortname matches, e.g. "*-SANDBOX" (repeat for more)', collect)
    .option('--exclude-idnumber <pattern>', 'leave out courses whose idnumber matches (repeat for more)', collect)
    .option('--no-subcategories', 'only the categories themselves, not their subcategories')
    .option('--no-mirror', 'restore every course into the target category, without recreating subcategories')
    .option('--concurrency <n>', 'courses at once', int('--concurrency'), 4)
    .option('--max-concurrency <n>', 'the most a live `concurrency` change may set', int('--max-concurrency'))
    .option('--window <"days from-to">', 'an allowed window, e.g. "mon-fri 19:00-07:00" (repeat for more); none: any time', collect)
    .option('--timezone <zone>', 'time zone of the windows (IANA name)', 'Europe/Paris')
    .option('--safety-margin <fraction>', 'a course starts only if its predicted duration plus this fraction fits in the window', num('--safety-margin'))
    .option('--clock-speed <n>', 'rehearsals: the windows read a clock this many times faster than real time', num('--clock-speed'))
    .option('--clock-start <iso>', 'rehearsals: the windows\' clock at the session start, e.g. 2026-11-27T18:30:00+01:00')
    .option('--delete-source', 'delete each source course once its archive is verified', false)
    .option('--failure-hold <hours>', 'how long failed courses wait for retry or skip before the session ends', int('--failure-hold'), DEFAULT_FAILURE_HOLD_HOURS);
}

/** The session input those options describe (not validated yet). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander's parsed options are untyped
function sessionFields(o: any) {
  const selection = {
    moreCategoryIds: o.alsoCategory ? parseIdList('--also-category', o.alsoCategory) : undefined,
    courseIds: o.course ? parseIdList('--course', o.course) : undefined,
    excludeShortnames: o.excludeShortname, excludeIdnumbers: o.excludeIdnumber,
  };
  return {
    sourceSiteId: o.sourceSite, sourceCategoryId: o.category,
    includeSubcategories: o.subcategories, targetSiteId: o.targetSite, targetCategoryId: o.targetCategory,
    selection: Object.values(selection).some((v) => v !== undefined) ? selection : undefined,
    mirrorSubcategories: o.mirror, concurrency: o.concurrency, deleteSource: o.deleteSource, failureHoldHours: o.failureHold,
    maxConcurrency: o.maxConcurrency,
    windows: o.window ? { timezone: o.timezone, windows: (o.window as string[]).map(parseWindowOption) } : undefined,
    clock: o.clockSpeed !== undefined || o.clockStart !== undefined ? { speed: o.clockSpeed ?? 1, startAt: o.clockStart } : undefined,
    prediction: o.safetyMargin !== undefined ? { safetyMargin: o.safetyMargin } : undefined,
  };
}

sessionOptions(program.command('start')
  .description('start an archive session for a category')
  .requiredOption('--session <name>', 'session name (workflow ID archive-session/<name>)')
  .requiredOption('--vintage <label>', 'academic vintage, e.g. 2024-2025'), { category: true })
  .option('--wait', 'show progress until the session ends')
  .action(async (o) => {
    const cfg = config();
    const input = validateSessionInput({ session: o.session, vintage: o.vintage, ...sessionFields(o) }, cfg);
    const client = await connectClient(cfg);
    await startSession(client, cfg, input);
    await client.connection.close();
    console.log(`Started ${sessionWorkflowId(input.session)}`);
    if (o.wait) await watch(input.session, { everyMs: 1000, untilSettled: true, courses: 10 });
  });

sessionOptions(program.command('plan')
  .description('dry run: the courses a session would archive, skip or leave out, their sizes, and how long it would take in its windows'), { category: true })
  .option('--start <iso>', 'when the session would start (default: now), e.g. 2026-12-04T19:00:00+01:00')
  .addOption(new Option('--format <format>', 'output').choices(PLAN_FORMATS).default('table'))
  .action(act(async (client, o) => {
    const cfg = config();
    // A plan names no session: placeholders pass the shared validation, and the workflow ignores them.
    const input = validateSessionInput({ session: 'plan', vintage: 'plan', ...sessionFields(o) }, cfg);
    if (o.start !== undefined && Number.isNaN(Date.parse(o.start))) throw new SessionInputError([`--start: "${o.start}" is not a date-time; write e.g. 2026-12-04T19:00:00+01:00`]);
    const report = await runPlan(client, cfg, { ...input, startAt: o.start });
    console.log(renderPlan(report, o.format, input.windows?.timezone));
  }));

const schedule = program.command('schedule').description('Temporal Schedules that start a session per vintage, resolved when they fire');

sessionOptions(schedule.command('create <scheduleId>')
  .description('a schedule for one source category policy: sessions of the vintage its rule names at each fire (overlap: skip)'), { category: false })
  .option('--pattern <pattern>', 'the vintage from the academic year, e.g. "{yearStart}-{yearEnd}"')
  .option('--years-back <n>', 'academic years back from the current one (1: the last one that ended)', int('--years-back'), 1)
  .option('--start-month <m>', 'the month an academic year starts in (1-12)', int('--start-month'), 9)
  .option('--vintage-from <"YYYY-MM-DD=vintage">', 'instead of a pattern: from this date on, archive this vintage (repeat for more)', collect)
  .addOption(new Option('--match <field>', 'the category field that holds the vintage').choices(['name', 'idnumber']).default('name'))
  .option('--parent-category <id>', 'look for the vintage among this category\'s children only', int('--parent-category'))
  .option('--yearly <"MM-DD HH:MM">', 'fire once a year, e.g. "07-01 20:00" (in --timezone)')
  .option('--cron <expression>', 'or fire on a cron expression, e.g. "0 20 1 7 *" (in --timezone)')
  .option('--note <text>', 'a note shown with the schedule')
  .action(act(async (client, scheduleId: string, o) => {
    const cfg = config();
    const list = (o.vintageFrom as string[] | undefined)?.map((text) => {
      const m = /^(\S+)=(.+)$/.exec(text);
      if (!m) throw new SessionInputError([`--vintage-from: "${text}" is not DATE=VINTAGE; write e.g. "2027-07-01=2025-2026"`]);
      return { from: m[1], vintage: m[2] };
    });
    const { sourceCategoryId, ...fields } = sessionFields(o);
    void sourceCategoryId; // resolved at each fire
    const input = validateScheduledSessionInput({
      ...fields, scheduleId,
      vintageRule: {
        ...(list ? { list } : { pattern: o.pattern, yearsBack: o.yearsBack, startMonth: o.startMonth }),
        match: o.match, parentCategoryId: o.parentCategory, timezone: o.timezone,
      },
    }, cfg);
    await createSchedule(client, cfg, input, { yearly: o.yearly, cron: o.cron, timezone: o.timezone }, o.note);
    const { upcoming } = await describeSchedule(client, scheduleId);
    console.log(`Created schedule ${scheduleId}; next fires: ${renderUpcoming(upcoming, o.timezone)}`);
  }));

schedule.command('list').description('the schedules that start archive sessions')
  .action(act(async (client) => {
    const rows = await listSchedules(client);
    if (!rows.length) { console.log('No archive schedule.'); return; }
    console.log(table(['schedule', 'state', 'next fire', 'last session', 'vintage rule'], rows.map((r) => [
      r.scheduleId, r.paused ? 'paused' : 'active', r.next ?? '-', r.lastSession ?? '-', r.rule,
    ])).join('\n'));
  }));

schedule.command('describe <scheduleId>').description('a schedule: its times, rule, next fires with the vintage each resolves to, recent sessions, skipped fires')
  .action(act(async (client, scheduleId: string) => {
    console.log(renderSchedule(await describeSchedule(client, scheduleId)));
  }));

schedule.command('pause <scheduleId>').description('fire no more until unpaused (a running session goes on)')
  .option('--note <text>', 'why, shown by describe', 'paused from the archiver CLI')
  .action(act(async (client, scheduleId: string, o: { note: string }) => {
    await client.schedule.getHandle(scheduleId).pause(o.note);
    console.log(`Paused schedule ${scheduleId}`);
  }));

schedule.command('unpause <scheduleId>').description('fire again at its times')
  .action(act(async (client, scheduleId: string) => {
    await client.schedule.getHandle(scheduleId).unpause('unpaused from the archiver CLI');
    console.log(`Unpaused schedule ${scheduleId}`);
  }));

schedule.command('trigger <scheduleId>').description('fire now; skipped if a session of this schedule still runs')
  .action(act(async (client, scheduleId: string) => {
    await triggerSchedule(client, scheduleId);
    console.log(`Triggered ${scheduleId}; see its session with: schedule describe ${scheduleId}`);
  }));

schedule.command('delete <scheduleId>').description('delete the schedule (its sessions are not touched)')
  .action(act(async (client, scheduleId: string) => {
    await client.schedule.getHandle(scheduleId).delete();
    console.log(`Deleted schedule ${scheduleId}`);
  }));

program.command('status <session>')
  .description("a session's progress: counts per status and phase, rate and ETA, running and failed courses")
  .option('--watch', 'refresh until nothing is left to run')
  .option('--courses <n>', 'running courses shown in detail', int('--courses'), 10)
  .action(async (session: string, o: { watch?: boolean; courses: number }) => {
    await watch(session, { everyMs: 2000, untilSettled: Boolean(o.watch), courses: o.courses });
  });

const course = program.command('course').description('one course of a session');
course.command('show <session> <courseId>')
  .description('a course: its phases with times, attempts and last error, its live step and heartbeat, its catalog row')
  .option('--json', 'as JSON')
  .action(act(async (client, session: string, id: string, o: { json?: boolean }) => {
    const courseId = int('courseId')(id);
    const cfg = config();
    const catalog = await Catalog.open(cfg.catalog.url);
    try {
      const details = await courseDetails(client, session, courseId, (sourceSiteId) => catalog.find(sourceSiteId, courseId));
      console.log(o.json ? JSON.stringify(details, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2) : renderCourse(details, workflowLink(cfg, details.workflowId)));
    } finally {
      await catalog.close();
    }
  }));

const sessions = program.command('sessions').description('every archive session');
sessions.command('list')
  .description('sessions, newest first, with their state, percent done and failures')
  .option('--query <filter>', 'a visibility filter on top, e.g. \'ArchiveVintage="2024-2025"\'')
  .option('--json', 'as JSON')
  .action(act(async (client, o: { query?: string; json?: boolean }) => {
    const rows = await listSessions(client, { query: o.query });
    if (o.json) { console.log(JSON.stringify(rows, null, 2)); return; }
    if (!rows.length) { console.log('No session.'); return; }
    console.log(table(['session', 'vintage', 'state', 'done', '%', 'failed', 'started', 'ended'], rows.map((r) => [
      r.session, r.vintage, r.state || r.execution.toLowerCase(), r.total !== null ? `${r.done}/${r.total}` : '-', r.percent ?? '-',
      r.failed ?? '-', r.startedAt.slice(0, 16).replace('T', ' '), r.closedAt?.slice(0, 16).replace('T', ' ') ?? '',
    ])).join('\n'));
  }));

program.command('report <session>')
  .description('write <session>.csv and <session>.html: counts, durations, failures with reasons, a Web UI link per course')
  .option('--out <dir>', 'folder to write them in', '.')
  .action(act(async (client, session: string, o: { out: string }) => {
    const cfg = config();
    const catalog = await Catalog.open(cfg.catalog.url);
    try {
      const report = await sessionReport(client, session, {
        config: cfg, catalogRows: await catalog.listSession(session),
      });
      mkdirSync(o.out, { recursive: true });
      const base = join(o.out, session.replace(/[^A-Za-z0-9._-]/g, '_'));
      writeFileSync(`${base}.csv`, reportCsv(report));
      writeFileSync(`${base}.html`, reportHtml(report));
      console.log(`Wrote ${base}.csv and ${base}.html (${report.courses.length} courses)`);
    } finally {
      await catalog.close();
    }
  }));

const catalogCmd = program.command('catalog').description('the archive catalog: where courses are, its ledger, retention, rebuild');
/** Opens the catalog of the config for one command, then closes it. */
const withCatalog = async <T>(fn: (catalog: Catalog, cfg: ReturnType<typeof config>) => Promise<T>) => {
  const cfg = config();
  const catalog = await Catalog.open(cfg.catalog.url);
  try {
    return await fn(catalog, cfg);
  } finally {
    await catalog.close();
  }
};
const asJson = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x), 2);

catalogCmd.command('find <query...>')
  .description('where a course is now: by source id ("12" or "prod:12"), shortname, idnumber, or words of its full name')
  .option('--json', 'as JSON')
  .action(async (words: string[], o: { json?: boolean }) => {
    await withCatalog(async (catalog) => {
      const rows = await catalog.search(words.join(' '));
      console.log(o.json ? asJson(rows) : renderCatalogRows(rows));
    });
  });

catalogCmd.command('verify')
  .description('walk the ledger\'s hash chain and compare each catalog row with it; exit 1 on any edited or removed entry')
  .option('--json', 'as JSON')
  .action(async (o: { json?: boolean }) => {
    const report = await withCatalog((catalog) => catalog.verifyLedger());
    if (o.json) console.log(asJson(report));
    else if (!report.problems.length) console.log(`Ledger intact: ${report.entries} entries, head ${report.head}`);
    else console.log(`Ledger BROKEN (${report.entries} entries read):\n${report.problems.map((p) => `  - ${p}`).join('\n')}`);
    if (report.problems.length) process.exitCode = 1;
  });

catalogCmd.command('expire')
  .description('delete the archives whose retention has passed (on their hosts, by a workflow), logged in the ledger')
  .option('--dry-run', 'list what would be deleted, delete nothing')
  .option('--as-of <date>', 'judge retention at this date instead of now (ISO)')
  .action(async (o: { dryRun?: boolean; asOf?: string }) => {
    const asOf = o.asOf ? new Date(o.asOf) : new Date();
    if (Number.isNaN(asOf.getTime())) program.error(`--as-of: "${o.asOf}" is not a date; write it as 2031-09-01 or 2031-09-01T00:00:00Z`, { exitCode: 2 });
    await withCatalog(async (catalog, cfg) => {
      const client = await connectClient(cfg);
      try {
        const { due, result } = await expireDue(client, cfg, catalog, asOf, Boolean(o.dryRun));
        if (!due.length) { console.log(`Nothing to expire as of ${asOf.toISOString()}.`); return; }
        console.log(renderCatalogRows(due));
        if (!result) { console.log(`\nDry run: ${due.length} archive(s) would be deleted.`); return; }
        console.log(`\nExpired ${result.expired.length} of ${due.length}.`);
        for (const f of result.failed) console.log(`  failed: catalog entry ${f.catalogId}: ${f.message}`);
        if (result.failed.length) process.exitCode = 1;
      } finally {
        await client.connection.close();
      }
    });
  });

catalogCmd.command('rebuild')
  .description('re-read every package of a cold storage and record each in the catalog (after the catalog was lost); run it where the storage is mounted')
  .requiredOption('--storage <id>', 'the storage to read, from the config')
  .action(async (o: { storage: string }) => {
    const report = await withCatalog((catalog, cfg) => rebuildFromStorage(cfg, catalog, o.storage));
    console.log(`Rebuilt from ${o.storage}: ${report.recorded} recorded, ${report.unchanged} already there, ${report.broken.length} broken`);
    for (const b of report.broken) console.log(`  broken: ${b.name}: ${b.problems.join('; ')}`);
    if (report.broken.length) process.exitCode = 1;
  });

program.command('pause <session>').description('start no new course until resumed')
  .option('--drain', 'also hold running courses at their next phase boundary (the running phase finishes)')
  .action(act(async (client, session: string, o: { drain?: boolean }) => {
    await pauseSession(client, session, { drain: o.drain });
    console.log(o.drain
      ? `Paused ${session} with drain: running courses finish their phase and hold; none starts`
      : `Paused ${session}: running courses finish, no new one starts`);
  }));

program.command('concurrency <session> <n>').description('courses at once from now on, without a restart')
  .action(act(async (client, session: string, n: string) => {
    const previous = await setConcurrency(client, session, int('n')(n));
    console.log(`Concurrency of ${session}: ${previous} -> ${n}`);
  }));

program.command('resume <session>').description('resume a paused session').action(act(async (client, session: string) => {
  await resumeSession(client, session);
  console.log(`Resumed ${session}`);
}));

program.command('retry <session> [courseIds...]')
  .description('send failed courses back (all failed ones without ids); each resumes at the phase that failed')
  .action(act(async (client, session: string, ids: string[]) => {
    const queued = await retryCourses(client, session, ids.length ? ids.map(int('courseId')) : undefined);
    console.log(`Queued for retry in ${session}: ${queued.join(', ')}`);
  }));

program.command('skip <session> <courseIds...>')
  .description('give up on courses: failed ones close as skipped, pending ones are never started')
  .action(act(async (client, session: string, ids: string[]) => {
    const skipped = await skipCourses(client, session, ids.map(int('courseId')));
    console.log(`Skipped in ${session}: ${skipped.join(', ')}`);
  }));

program.command('cancel <session>')
  .description('stop a session: backups and transfers stop at once, restores and deletions finish first; staging files are removed')
  .action(act(async (client, session: string) => {
    await cancelSession(client, session);
    console.log(`Cancellation requested for ${session}; follow it with: status ${session} --watch`);
  }));

program.command('doctor')
  .description('check every configured site before a first session: token, functions, release, admin CLI, staging space')
  .option('--site <id>', 'check only this site (repeat for more)', collect)
  .option('--source-site <id>', 'with --category: the site of the category to archive')
  .option('--category <id>', 'the category a session would archive: its largest course sizes the staging check', int('--category'))
  .option('--wait <seconds>', 'how long each site\'s worker may take to answer', int('--wait'), 30)
  .action(act(async (client, o: { site?: string[]; sourceSite?: string; category?: number; wait: number }) => {
    const cfg = config();
    const unknown = (o.site ?? []).filter((id) => !cfg.sites[id]);
    if (unknown.length) throw new SessionInputError([`--site: unknown site ${unknown.join(', ')}; the config has: ${Object.keys(cfg.sites).join(', ')}`]);
    if (o.category !== undefined && !o.sourceSite) throw new SessionInputError(['--source-site: say which site holds --category']);
    const report = await runDoctor(client, cfg, {
      siteIds: o.site, workerWaitSeconds: o.wait,
      selection: o.category !== undefined ? { siteId: o.sourceSite!, categoryId: o.category } : undefined,
    });
    console.log(renderDoctor(report));
    if (!doctorPassed(report)) process.exitCode = 1;
  }));

program.command('setup-search-attributes')
  .description('register the Archive* search attributes on a real Temporal cluster (the dev server gets them at start)')
  .action(act(async (client) => {
    const ns = config().temporal.namespace;
    const { added, present } = await registerSearchAttributes(client, ns);
    console.log(`Namespace ${ns}: added ${added.join(', ') || 'none'}; already there: ${present.join(', ') || 'none'}`);
  }));

/** A failed workflow's own reason: the innermost cause (a missing category, say), not "Workflow execution failed". */
function rootCause(e: Error): Error {
  let cur: Error = e;
  while ((cur as { cause?: unknown }).cause instanceof Error) cur = (cur as { cause: Error }).cause;
  return cur;
}

/** Failures that mean the request named something that does not exist: bad input, exit 2. */
const INPUT_FAILURES = new Set(['CategoryNotFound', 'CourseNotFound', 'VintageCategoryNotFound', 'VintageCategoryAmbiguous']);

program.parseAsync().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof SessionInputError || e instanceof ActionRefused) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  if (e instanceof WorkflowFailedError) {
    const cause = rootCause(e);
    process.stderr.write(`${cause.message}\n`);
    process.exit(cause instanceof ApplicationFailure && INPUT_FAILURES.has(cause.type ?? '') ? 2 : 1);
  }
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
