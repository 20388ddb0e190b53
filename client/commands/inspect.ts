// Reading what happened: one course, every session, a session's report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command } from 'commander';
import { SESSION_FOLDER, workflowLink } from '../../contract';
import { ActionRefused } from '../action-refused';
import { renderCourse, table } from '../render';
import { act, config, int, patiently } from './common';
import { systemZone } from './session-options';

export function registerInspectCommands(program: Command): void {
  const course = program.command('course').description('one course of a session');
  course
    .command('show <session> <courseId>')
    .description('a course: its phases with times, attempts and last error, its live step and heartbeat, its catalog row')
    .option('--json', 'as JSON')
    .action(
      act(async (client, session: string, id: string, o: { json?: boolean }) => {
        const courseId = int('courseId')(id);
        const cfg = config();
        const [{ Catalog }, { courseDetails }] = await Promise.all([import('../../activities/catalog'), import('../inspect')]);
        const catalog = await Catalog.open(cfg.catalog.url, 'read');
        try {
          const details = await patiently(client, `reading course ${courseId} of ${session}`, () =>
            courseDetails(client, session, courseId, (sourceSiteId) => catalog.find(sourceSiteId, courseId)),
          );
          console.log(
            o.json
              ? JSON.stringify(details, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2)
              : renderCourse(details, workflowLink(cfg, details.workflowId)),
          );
        } finally {
          await catalog.close();
        }
      }),
    );

  const sessions = program.command('sessions').description('every archive session');
  sessions
    .command('list')
    .description('sessions, newest first, with their state, percent done and failures')
    .option('--query <filter>', 'a visibility filter on top, e.g. \'ArchiveVintage="2024-2025"\'')
    .option('--json', 'as JSON')
    .action(
      act(async (client, o: { query?: string; json?: boolean }) => {
        const { listSessions } = await import('../inspect');
        const rows = await patiently(client, 'listing the sessions', () => listSessions(client, { query: o.query }));
        if (o.json) {
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        if (!rows.length) {
          console.log('No session.');
          return;
        }
        console.log(
          table(
            ['session', 'vintage', 'state', 'done', '%', 'failed', 'started', 'ended'],
            rows.map((r) => [
              r.session,
              r.vintage,
              r.state || r.execution.toLowerCase(),
              r.total !== null ? `${r.done}/${r.total}` : '-',
              r.percent ?? '-',
              r.failed ?? '-',
              r.startedAt.slice(0, 16).replace('T', ' '),
              r.closedAt?.slice(0, 16).replace('T', ' ') ?? '',
            ]),
          ).join('\n'),
        );
      }),
    );

  program
    .command('report <session>')
    .description('write <session>.csv and <session>.html: counts, durations, failures with reasons, a Web UI link per course')
    .option('--out <dir>', 'folder to write them in', '.')
    .action(
      act(async (client, session: string, o: { out: string }) => {
        // It names the files written: a name of ours, nothing that leads elsewhere.
        if (!SESSION_FOLDER.test(session))
          throw new ActionRefused(`<session>: "${session}" is not a session name (letters, digits, ".", "_", ":", "-")`);
        const cfg = config();
        const [{ Catalog }, { sessionReport }, { reportCsv, reportHtml }] = await Promise.all([
          import('../../activities/catalog'),
          import('../inspect'),
          import('../report'),
        ]);
        const catalog = await Catalog.open(cfg.catalog.url, 'read');
        try {
          const report = {
            ...(await patiently(client, `reading session ${session}`, async () =>
              sessionReport(client, session, { config: cfg, catalogRows: await catalog.listSession(session) }),
            )),
            ledgerHead: await catalog.ledgerHead(),
          };
          mkdirSync(o.out, { recursive: true });
          const base = join(o.out, session);
          writeFileSync(`${base}.csv`, reportCsv(report));
          // Times in this machine's zone: the operator's, who mails it.
          writeFileSync(`${base}.html`, reportHtml(report, systemZone()));
          console.log(`Wrote ${base}.csv and ${base}.html (${report.courses.length} courses)`);
        } finally {
          await catalog.close();
        }
      }),
    );
}
