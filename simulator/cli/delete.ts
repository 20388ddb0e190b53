// Stand-in for admin/cli/delete_course.php (Moodle 4.5).
import { createInterface } from 'node:readline/promises';
import type { SimCourse } from '../state';
import { CliSite, cliParams, simulatedSeconds, sleep } from './site';
import { courseActivityCount, courseDeclaredBytes } from '../state';

const HELP = `CLI script to delete a course.

Options:
 -h, --help                Print out this help
     --showsql             Show sql queries before they are executed
     --showdebugging       Show developer level debugging information
     --disablerecyclebin   Skip backing up the course
     --non-interactive     No interactive questions or confirmations
 -c, --courseid            Course id to be deleted

Example:
\$sudo -u www-data /usr/bin/php admin/cli/delete_course.php --courseid=123456
\$sudo -u www-data /usr/bin/php admin/cli/delete_course.php --courseid=123456 --showdebugging
\$sudo -u www-data /usr/bin/php admin/cli/delete_course.php --courseid=123456 --disablerecyclebin
`;

// remove_course_contents' feedback, in its order: each module type present comes after Blocks, by module name.
const FEEDBACK_BEFORE_MODULES = ['Completion tracking', 'Grades, Items, Categories', 'Outcomes', 'Scales', 'Settings', 'Letters', 'Blocks'];
const FEEDBACK_AFTER_MODULES = ['Activity modules', 'Questions', 'Content bank', 'Enrolment methods', 'Groupings', 'Groups'];
const MODULE_NAME: Record<string, string> = {
  assign: 'Assignment',
  forum: 'Forum',
  page: 'Page',
  resource: 'File',
  label: 'Text and media area',
  url: 'URL',
  quiz: 'Quiz',
  folder: 'Folder',
  book: 'Book',
};

export async function deleteCourse(site: CliSite, argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { options, unknown } = cliParams(argv, {
    courseid: undefined,
    'non-interactive': undefined,
    disablerecyclebin: undefined,
    showsql: undefined,
    showdebugging: undefined,
    help: undefined,
    c: 'courseid',
    h: 'help',
  });
  if (unknown.length) {
    err(`Unrecognised options:\n  ${unknown.join('\n  ')}\nPlease use --help option.\n`);
    return 1;
  }
  if (options.help || !options.courseid) {
    out(HELP);
    return 0;
  }
  const { course } = await site.course(Number(options.courseid));
  if (!course) {
    out('Course not found\n'); // on STDOUT, as every error text of these scripts
    return 1;
  }
  if (!options['non-interactive']) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`Are you sure you want to delete course id ${course.id}? (y/N) `);
    rl.close();
    if (answer.trim().toLowerCase() !== 'y') return 1;
  }
  out(`Deleting course id ${course.id}\nCourse name: ${course.fullname}\nShort name: ${course.shortname}\n`);
  const settings = await site.settings();
  // With the recycle bin on, Moodle first backs the course up: it costs a second backup's time.
  const factor = options.disablerecyclebin ? 0.3 : 1.3;
  if (options.disablerecyclebin) out('Disabling recycle bin...\n');
  await sleep(factor * simulatedSeconds(settings, courseDeclaredBytes(course as SimCourse), courseActivityCount(course as SimCourse)));
  const { fail } = await site.rpc<{ fail: boolean }>('takeFault', { script: 'delete', id: course.id, shortname: course.shortname });
  if (fail) {
    out('!!! Error writing to database !!!\n');
    return 1;
  }
  await site.rpc('deleteCourse', { id: course.id });
  const mods = [...new Set(course.sections.flatMap((s) => s.modules.map((m) => m.modname)))].sort();
  const feedback = [...FEEDBACK_BEFORE_MODULES, ...mods.map((m) => MODULE_NAME[m] ?? m), ...FEEDBACK_AFTER_MODULES];
  for (const f of feedback) out(`++ Deleted - ${f} ++\n`);
  out('Updating course count in categories...\nDone!\n');
  return 0;
}
