// Stand-in for admin/cli/restore_backup.php: extracts to the temp dir,
// creates an empty "restoring" course first (left behind if the restore
// fails, as in Moodle), creates the users the course enrols (colliding with
// another restore creating one of them), renames on a name clash and clears idnumber.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backupFilePath, readMbz, type BackupContents } from '../mbz';
import { CliSite, cliParams, simulatedSeconds, sleep } from './site';

const HELP = `Restore backup into provided category or course.
If courseid is set, course module/s will be added into the course.

Options:
-f, --file=STRING       Path to the backup file.
-c, --categoryid=INT    ID of the course category to restore to. This option is ignored when restoring an activity and courseid is set.
-C, --courseid=INT      ID of the course to restore to. This option is ignored when restoring a course and the categoryid is set.
-s, --showdebugging     Show developer level debugging information
-h, --help              Print out this help.

Example:
\$sudo -u www-data /usr/bin/php admin/cli/restore_backup.php --file=/path/to/backup/coursebackup.mbz --categoryid=1

\$sudo -u www-data /usr/bin/php admin/cli/restore_backup.php --file=/path/to/backup/activitybackup.mbz --courseid=1
`;

export async function restore(site: CliSite, argv: string[], out: (s: string) => void): Promise<number> {
  const { options, unknown } = cliParams(argv, {
    file: undefined,
    categoryid: undefined,
    courseid: undefined,
    showdebugging: undefined,
    help: undefined,
    f: 'file',
    c: 'categoryid',
    C: 'courseid',
    s: 'showdebugging',
    h: 'help',
  });
  if (unknown.length) {
    out(`Unrecognised options:\n  ${unknown.join('\n  ')}\nPlease use --help option.\n`);
    return 1;
  }
  if (options.help || !options.file || (!options.categoryid && !options.courseid)) {
    out(HELP);
    return 0;
  }
  const file = String(options.file);
  if (!existsSync(file) || !statSync(file).isFile()) {
    out('!!! Sorry, the requested file could not be found !!!\n');
    return 1;
  }
  const categoryId = Number(options.categoryid);
  const { category } = await site.rpc<{ category: unknown }>('category', { id: categoryId });
  if (!category) {
    out('!!! Incorrect category ID! !!!\n');
    return 1;
  }
  const tempdir = join(site.layout.tempdir, createHash('md5').update(`${file}:${process.pid}:${Date.now()}`).digest('hex'));
  out(`== Extracting backup file to: ${tempdir} ==\n`);
  let backup: BackupContents;
  try {
    backup = await readMbz(file, tempdir);
    out('== Preprocessing backup file ==\n');
  } catch {
    rmSync(tempdir, { recursive: true, force: true });
    out('== Preprocessing backup file ==\n!!! Exception - Call to a member function destroy() on null !!!\n');
    return 1;
  }
  // Restore's settings take the course names as PARAM_TEXT: a tag (other than multi-language ones) stops it
  // while preprocessing, before the placeholder course is made (as 4.5.11 does; exit 1).
  const tagged = (name: string) => /<(?!\/?(lang|span)\b)[^>]*>/.test(name);
  if (tagged(backup.course.fullname) || tagged(backup.course.shortname)) {
    rmSync(tempdir, { recursive: true, force: true });
    out('== Cleaning temp data ==\n!!! Exception - error/setting_invalid_text !!!\n');
    return 1;
  }
  let id: number | undefined;
  try {
    ({ id } = await site.rpc<{ id: number }>('createRestoringCourse', { categoryId }));
    const { collision } = await site.rpc<{ collision: string | null }>('claimUsers', { id, usernames: backup.users });
    if (collision) {
      // The placeholder stays, as Moodle leaves it.
      out(
        '!!! Error writing to database !!!\n' +
          `!! ERROR:  duplicate key value violates unique constraint "mdl_user_mneuse_uix"\nDETAIL:  Key (mnethostid, username)=(1, ${collision}) already exists. !!\n`,
      );
      return 1;
    }
    // A test may hold a restore here, its new users claimed, to make another one meet them.
    await site.rpc('passGate', { script: 'restore_backup.php:users-created' });
    const settings = await site.settings();
    const declared = backup.files.reduce((n, f) => n + f.filesize, 0);
    await sleep(simulatedSeconds(settings, declared, backup.activities.length));
    const { fail } = await site.rpc<{ fail: false | 'fail' | 'lose-activity' }>('takeFault', {
      script: 'restore',
      shortname: backup.course.shortname,
    });
    if (fail === 'lose-activity')
      backup.activities.pop(); // restored "successfully", one activity short
    else if (fail) {
      out('== Cleaning temp data ==\n!!! Exception - error/restore_not_executable_awaiting_required !!!\n');
      return 1;
    }
    const storedFiles: Record<string, number> = {};
    for (const f of backup.files) {
      const src = backupFilePath(tempdir, f.contenthash);
      if (!src || f.filename === '.') continue;
      const destDir = join(site.layout.filedir, f.contenthash.slice(0, 2));
      mkdirSync(destDir, { recursive: true });
      copyFileSync(src, join(destDir, f.contenthash));
      storedFiles[f.contenthash] = statSync(src).size;
    }
    await site.rpc('fillRestoredCourse', { id, backup, storedFiles });
    out(`== Restored course ID: ${id} ==\n`);
    return 0;
  } finally {
    if (id !== undefined) await site.rpc('releaseUsers', { id });
    rmSync(tempdir, { recursive: true, force: true });
  }
}
