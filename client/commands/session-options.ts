// The options that describe a session's selection, target, windows and
// policy: `start`, `plan` and `schedule create` share them.
import { Option, type Command } from 'commander';
import { DEFAULT_FAILURE_HOLD_HOURS } from '../../contract';
import { parseIdList, parseWindowOption } from '../session-input';
import { collect, int, num } from './common';

/** This machine's time zone (TZ, else the system's), as an operator reads times here; UTC where none is set. */
export const systemZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** The options that say what a session archives and how: `start`, `plan` and `schedule create` share them. */
export function sessionOptions(cmd: Command, what: { category: boolean }): Command {
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
    .option('--timezone <zone>', "time zone of the windows and a schedule's times (IANA name)", systemZone())
    .option(
      '--safety-margin <fraction>',
      'a course starts only if its predicted duration plus this fraction fits in the window',
      num('--safety-margin'),
    )
    .option('--clock-speed <n>', 'rehearsals: the windows read a clock this many times faster than real time', num('--clock-speed'))
    .option('--clock-start <iso>', "rehearsals: the windows' clock at the session start, e.g. 2026-11-27T18:30:00+01:00")
    .option('--delete-source', 'delete each source course once its archive is verified', false)
    .addOption(
      new Option(
        '--when-overlapping <what>',
        'when a running session selects some of the same courses: stop at once, or wait for it to end',
      )
        .choices(['refuse', 'wait'])
        .default('refuse'),
    )
    .option(
      '--failure-hold <hours>',
      'how long failed courses wait for retry or skip before the session ends',
      int('--failure-hold'),
      DEFAULT_FAILURE_HOLD_HOURS,
    );
}

/** The session input those options describe (not validated yet). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander's parsed options are untyped
export function sessionFields(o: any) {
  const selection = {
    moreCategoryIds: o.alsoCategory ? parseIdList('--also-category', o.alsoCategory) : undefined,
    courseIds: o.course ? parseIdList('--course', o.course) : undefined,
    excludeShortnames: o.excludeShortname,
    excludeIdnumbers: o.excludeIdnumber,
  };
  return {
    sourceSiteId: o.sourceSite,
    sourceCategoryId: o.category,
    includeSubcategories: o.subcategories,
    targetSiteId: o.targetSite,
    targetCategoryId: o.targetCategory,
    selection: Object.values(selection).some((v) => v !== undefined) ? selection : undefined,
    mirrorSubcategories: o.mirror,
    concurrency: o.concurrency,
    deleteSource: o.deleteSource,
    failureHoldHours: o.failureHold,
    whenOverlapping: o.whenOverlapping,
    maxConcurrency: o.maxConcurrency,
    windows: o.window ? { timezone: o.timezone, windows: (o.window as string[]).map(parseWindowOption) } : undefined,
    clock: o.clockSpeed !== undefined || o.clockStart !== undefined ? { speed: o.clockSpeed ?? 1, startAt: o.clockStart } : undefined,
    prediction: o.safetyMargin !== undefined ? { safetyMargin: o.safetyMargin } : undefined,
  };
}
