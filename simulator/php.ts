// Stands in for `php` on a simulated Moodle host: `php.ts <moodleDir>/admin/cli/<script>.php [options]`.
// The host adapter runs it exactly as it runs the real php binary.
import { basename, dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { CliSite } from './cli/site';
import { backup } from './cli/backup';
import { restore } from './cli/restore';
import { deleteCourse } from './cli/delete';

async function main(): Promise<number> {
  const [script, ...args] = process.argv.slice(2);
  if (!script) {
    process.stderr.write('Usage: php <script> [args]\n');
    return 1;
  }
  if (!existsSync(script)) {
    process.stdout.write(`Could not open input file: ${script}\n`);
    return 1;
  }
  const site = new CliSite(resolve(dirname(script), '..', '..'));
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  switch (basename(script)) {
    case 'backup.php': return backup(site, args, out);
    case 'restore_backup.php': return restore(site, args, out);
    case 'delete_course.php': return deleteCourse(site, args, out, err);
    default:
      process.stdout.write(`Could not open input file: ${script}\n`);
      return 1;
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    // Moodle's default exception handler: the message between !!! on STDOUT, exit 1.
    process.stdout.write(`!!! ${(e as Error).message} !!!\n`);
    process.exitCode = 1;
  },
);
