// Stand-in for admin/cli/backup.php: same options, output lines and exit
// codes as Moodle 4.5's, including its traps (exit 0 on a bad destination).
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { courseActivityCount, courseDeclaredBytes } from '../state';
import { defaultBackupFilename, writeMbz } from '../mbz';
import { CliSite, cliParams, simulatedSeconds, sleep } from './site';

// As 4.5.11+ prints it (fixtures/moodle/cli/backup.help.out): 4.5.11 added --cmid and reworded the first line.
const HELP = `Perform backup of the given course or course module.

Options:
--courseid=INTEGER          Course ID for backup.
--courseshortname=STRING    Course shortname for backup. This option is ignored if courseid is set.
--cmid=INTEGER              Course module ID for backup. This option is ignored if courseid or courseshortname is set.
--destination=STRING        Path where to store backup file. If not set the backup
                            will be stored within the course backup file area.
-h, --help                  Print out this help.

Example:
\$sudo -u www-data /usr/bin/php admin/cli/backup.php --courseid=2 --destination=/moodle/backup/\n`;

export async function backup(site: CliSite, argv: string[], out: (s: string) => void): Promise<number> {
  const { options, unknown } = cliParams(argv, {
    courseid: undefined,
    courseshortname: undefined,
    cmid: undefined,
    destination: undefined,
    help: undefined,
    h: 'help',
  });
  if (unknown.length) {
    out(`Unrecognised options:\n  ${unknown.join('\n  ')}\nPlease use --help option.\n`);
    return 1;
  }
  if (options.help || (!options.courseid && !options.courseshortname)) {
    out(HELP);
    return 0;
  }
  const dest = typeof options.destination === 'string' ? options.destination.replace(/\/+$/, '') : undefined;
  if (dest !== undefined) {
    let ok = false;
    try {
      ok = statSync(dest).isDirectory();
      accessSync(dest, constants.W_OK);
    } catch {
      ok = false;
    }
    if (!ok) {
      out('Destination directory does not exists or not writable.\n');
      return 0; // sic: Moodle exits 0 here
    }
  }
  const { course, category } = await site.course(Number(options.courseid));
  if (!course) {
    out("!!! Can't find data record in database table course. !!!\n");
    return 1;
  }
  out('== Performing backup... ==\n');
  const settings = await site.settings();
  await sleep(simulatedSeconds(settings, courseDeclaredBytes(course), courseActivityCount(course)));
  const { fail } = await site.rpc<{ fail: boolean }>('takeFault', { script: 'backup', id: course.id, shortname: course.shortname });
  if (fail) {
    out('!!! Error reading from database !!!\n');
    return 1;
  }
  const filename = defaultBackupFilename(course);
  if (dest === undefined) {
    const area = site.layout.backupArea(course.id);
    mkdirSync(area, { recursive: true });
    await writeMbz(join(area, filename), course, category, settings, site.wwwroot, (f) => site.fileBytes(f));
    out('Backup completed, the new file is listed in the backup area of the given course\n');
    return 0;
  }
  const target = join(dest, filename);
  out(`Writing ${target}\n`);
  await writeMbz(target, course, category, settings, site.wwwroot, (f) => site.fileBytes(f));
  out('Backup completed.\n');
  return 0;
}
