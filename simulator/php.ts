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
  const name = basename(script);
  const run = { 'backup.php': backup, 'restore_backup.php': restore, 'delete_course.php': deleteCourse }[name];
  if (!run) {
    process.stdout.write(`Could not open input file: ${script}\n`);
    return 1;
  }
  // The site counts the scripts running on its host: tests check per-host limits against it.
  await site.rpc('scriptStarted', { script: name });
  try {
    // A test may hold this script at its start (a closed gate) to know which phase a course is in.
    await site.rpc('passGate', { script: name });
    return await run(site, args, out, err);
  } finally {
    await site.rpc('scriptEnded', { script: name });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Moodle's default exception handler: the message between !!! on STDOUT, exit 1.
    process.stdout.write(`!!! ${(e as Error).message} !!!\n`);
    process.exitCode = 1;
  },
);
