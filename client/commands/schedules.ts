// Temporal Schedules that start a session per vintage.
import { Option, type Command } from 'commander';
import { renderSchedule, renderUpcoming, table } from '../render';
import { SessionInputError, validateScheduledSessionInput } from '../session-input';
import { act, collect, config, int, patiently } from './common';
import { sessionFields, sessionOptions } from './session-options';
import { wallClock } from '../../workflows/windows';

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('Temporal Schedules that start a session per vintage, resolved when they fire');

  sessionOptions(
    schedule
      .command('create <scheduleId>')
      .description('a schedule for one source category policy: sessions of the vintage its rule names at each fire (overlap: skip)'),
    { category: false },
  )
    .option('--pattern <pattern>', 'the vintage from the academic year, e.g. "{yearStart}-{yearEnd}"')
    .option('--years-back <n>', 'academic years back from the current one (1: the last one that ended)', int('--years-back'), 1)
    .option('--start-month <m>', 'the month an academic year starts in (1-12)', int('--start-month'), 9)
    .option(
      '--vintage-from <"YYYY-MM-DD=vintage">',
      'instead of a pattern: from this date on, archive this vintage (repeat for more)',
      collect,
    )
    .addOption(new Option('--match <field>', 'the category field that holds the vintage').choices(['name', 'idnumber']).default('name'))
    .option('--parent-category <id>', "look for the vintage among this category's children only", int('--parent-category'))
    .option('--yearly <"MM-DD HH:MM">', 'fire once a year, e.g. "07-01 20:00" (in --timezone)')
    .option('--cron <expression>', 'or fire on a cron expression, e.g. "0 20 1 7 *" (in --timezone)')
    .option('--note <text>', 'a note shown with the schedule')
    .action(
      act(async (client, scheduleId: string, o) => {
        const cfg = config();
        const list = (o.vintageFrom as string[] | undefined)?.map((text) => {
          const m = /^(\S+)=(.+)$/.exec(text);
          if (!m) throw new SessionInputError([`--vintage-from: "${text}" is not DATE=VINTAGE; write e.g. "2027-07-01=2025-2026"`]);
          return { from: m[1], vintage: m[2] };
        });
        const { sourceCategoryId, ...fields } = sessionFields(o);
        void sourceCategoryId; // resolved at each fire
        const input = validateScheduledSessionInput(
          {
            ...fields,
            scheduleId,
            vintageRule: {
              ...(list ? { list } : { pattern: o.pattern, yearsBack: o.yearsBack, startMonth: o.startMonth }),
              match: o.match,
              parentCategoryId: o.parentCategory,
              timezone: o.timezone,
            },
          },
          cfg,
        );
        const { createSchedule, describeSchedule, refuseMissingCategories } = await import('../schedules');
        await refuseMissingCategories(client, cfg, input);
        await createSchedule(client, cfg, input, { yearly: o.yearly, cron: o.cron, timezone: o.timezone }, o.note);
        const { upcoming } = await describeSchedule(client, scheduleId);
        console.log(`Created schedule ${scheduleId}; next fires: ${renderUpcoming(upcoming, o.timezone)}`);
      }),
    );

  schedule
    .command('list')
    .description('the schedules that start archive sessions')
    .action(
      act(async (client) => {
        const { listSchedules } = await import('../schedules');
        const rows = await patiently(client, 'listing the schedules', () => listSchedules(client));
        if (!rows.length) {
          console.log('No archive schedule.');
          return;
        }
        console.log(
          table(
            ['schedule', 'state', 'next fire', 'last session', 'vintage rule'],
            // Each next fire in its schedule's zone, as `describe` shows it.
            rows.map((r) => [
              r.scheduleId,
              r.paused ? 'paused' : 'active',
              r.next ? wallClock(Date.parse(r.next), r.timezone) : '-',
              r.lastSession ?? '-',
              r.rule,
            ]),
          ).join('\n'),
        );
      }),
    );

  schedule
    .command('describe <scheduleId>')
    .description('a schedule: its times, rule, next fires with the vintage each resolves to, recent sessions, skipped fires')
    .action(
      act(async (client, scheduleId: string) => {
        const { describeSchedule } = await import('../schedules');
        console.log(renderSchedule(await patiently(client, `reading schedule ${scheduleId}`, () => describeSchedule(client, scheduleId))));
      }),
    );

  schedule
    .command('pause <scheduleId>')
    .description('fire no more until unpaused (a running session goes on)')
    .option('--note <text>', 'why, shown by describe', 'paused from the archiver CLI')
    .action(
      act(async (client, scheduleId: string, o: { note: string }) => {
        await patiently(client, `pausing schedule ${scheduleId}`, () => client.schedule.getHandle(scheduleId).pause(o.note));
        console.log(`Paused schedule ${scheduleId}`);
      }),
    );

  schedule
    .command('unpause <scheduleId>')
    .description('fire again at its times')
    .action(
      act(async (client, scheduleId: string) => {
        await patiently(client, `unpausing schedule ${scheduleId}`, () =>
          client.schedule.getHandle(scheduleId).unpause('unpaused from the archiver CLI'),
        );
        console.log(`Unpaused schedule ${scheduleId}`);
      }),
    );

  schedule
    .command('trigger <scheduleId>')
    .description('fire now; skipped if a session of this schedule still runs')
    .action(
      act(async (client, scheduleId: string) => {
        const { triggerSchedule } = await import('../schedules');
        await triggerSchedule(client, scheduleId);
        console.log(`Triggered ${scheduleId}; see its session with: schedule describe ${scheduleId}`);
      }),
    );

  schedule
    .command('delete <scheduleId>')
    .description('delete the schedule (its sessions are not touched)')
    .action(
      act(async (client, scheduleId: string) => {
        await client.schedule.getHandle(scheduleId).delete();
        console.log(`Deleted schedule ${scheduleId}`);
      }),
    );
}
