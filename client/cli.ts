// The operator's CLI: start a session, watch its status, pause and resume it.
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../workers/config';
import { sessionWorkflowId } from '../workflows/phases';
import { connectClient } from './connection';
import { progressBar, renderStatus } from './render';
import { SessionInputError, validateSessionInput } from './session-input';
import { pauseSession, resumeSession, sessionStatus, startSession } from './sessions';

const int = (name: string) => (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
  return Number(v);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const program = new Command().name('archiver').description('Archive Moodle course categories with Temporal')
  .option('-c, --config <file>', 'config file (or ARCHIVER_CONFIG)', process.env.ARCHIVER_CONFIG ?? 'archiver.config.json');

const config = () => loadConfig(program.opts<{ config: string }>().config, { requireTokens: false });

async function watch(session: string, everyMs: number, untilFinished: boolean) {
  const client = await connectClient(config());
  const bar = progressBar();
  try {
    for (;;) {
      const s = await sessionStatus(client, session);
      bar.update(s);
      if (s.finished || !untilFinished) {
        bar.stop();
        console.log(renderStatus(session, s));
        return s;
      }
      await sleep(everyMs);
    }
  } finally {
    await client.connection.close();
  }
}

program.command('start')
  .description('start an archive session for a category')
  .requiredOption('--session <name>', 'session name (workflow ID archive-session/<name>)')
  .requiredOption('--vintage <label>', 'academic vintage, e.g. 2024-2025')
  .requiredOption('--source-site <id>', 'source site id from the config')
  .requiredOption('--category <id>', 'source category id', int('--category'))
  .requiredOption('--target-site <id>', 'target site id from the config')
  .requiredOption('--target-category <id>', 'target category id', int('--target-category'))
  .option('--no-subcategories', 'only the category itself, not its subcategories')
  .option('--no-mirror', 'restore every course into the target category, without recreating subcategories')
  .option('--concurrency <n>', 'courses at once', int('--concurrency'), 4)
  .option('--delete-source', 'delete each source course once its archive is verified', false)
  .option('--wait', 'show progress until the session ends')
  .action(async (o) => {
    const cfg = config();
    const input = validateSessionInput({
      session: o.session, vintage: o.vintage, sourceSiteId: o.sourceSite, sourceCategoryId: o.category,
      includeSubcategories: o.subcategories, targetSiteId: o.targetSite, targetCategoryId: o.targetCategory,
      mirrorSubcategories: o.mirror, concurrency: o.concurrency, deleteSource: o.deleteSource,
    }, cfg);
    const client = await connectClient(cfg);
    await startSession(client, cfg, input);
    await client.connection.close();
    console.log(`Started ${sessionWorkflowId(input.session)}`);
    if (o.wait) await watch(input.session, 1000, true);
  });

program.command('status <session>')
  .description("show a session's progress: counts per status and phase, percent, failed courses")
  .option('--watch', 'refresh until the session ends')
  .action(async (session: string, o: { watch?: boolean }) => { await watch(session, 2000, Boolean(o.watch)); });

program.command('pause <session>').description('start no new course until resumed').action(async (session: string) => {
  const client = await connectClient(config());
  await pauseSession(client, session);
  await client.connection.close();
  console.log(`Paused ${session}: running courses finish, no new one starts`);
});

program.command('resume <session>').description('resume a paused session').action(async (session: string) => {
  const client = await connectClient(config());
  await resumeSession(client, session);
  await client.connection.close();
  console.log(`Resumed ${session}`);
});

program.parseAsync().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof SessionInputError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
