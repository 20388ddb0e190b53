// Stands in for `php` on a simulated Moodle host: `php.ts <moodleDir>/admin/cli/<script>.php [options]`.
// The host adapter runs it exactly as it runs the real php binary.
import { basename, dirname, join, resolve } from 'node:path';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { CliSite } from './cli/site';
import { backup } from './cli/backup';
import { restore } from './cli/restore';
import { deleteCourse } from './cli/delete';

async function main(): Promise<number> {
  const [script, ...args] = process.argv.slice(2);
  // The inline PHP the archiver runs (activities/moodle/host.ts). Doctor's write probe: make and remove
  // a file in the folder it names, as this (the CLI) user.
  if (script === '-r' && args[0]?.includes('file_put_contents') && args[1]) {
    const probe = join(args[1], `.archiver-probe-${process.pid}`);
    try {
      writeFileSync(probe, 'probe');
      rmSync(probe);
      return 0;
    } catch (e) {
      process.stdout.write(`file_put_contents(${probe}): Failed to open stream: ${(e as Error).message}`);
      return 3;
    }
  }
  // The archiver's other inline PHP: remove a file from a course's backup area through the file API.
  if (script === '-r' && args[0]?.includes('get_area_files') && args.length === 4) {
    const [, moodleDir, courseId, filename] = args;
    const file = join(new CliSite(moodleDir).layout.backupArea(Number(courseId)), basename(filename));
    const there = basename(filename) === filename && existsSync(file);
    if (there) rmSync(file);
    process.stdout.write(`removed ${there ? 1 : 0}\n`);
    return 0;
  }
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
