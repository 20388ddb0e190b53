// Stands in for `php` on a simulated Moodle host: `php.ts <moodleDir>/admin/cli/<script>.php [options]`.
// The host adapter runs it exactly as it runs the real php binary.
import { basename, dirname, join, resolve } from 'node:path';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { CliSite } from './cli/site';
import { backup } from './cli/backup';
import { restore } from './cli/restore';
import { deleteCourse } from './cli/delete';

/** One run of the `php` stand-in: what it prints on each stream, and its exit code. Also run in the simulator's own
 * process (startSimulator's scriptsInServer), where it costs no process start. */
export async function runPhp(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  try {
    return await runScript(argv, out, err);
  } catch (e) {
    // Moodle's default exception handler: the message between !!! on STDOUT, exit 1.
    out(`!!! ${(e as Error).message} !!!\n`);
    return 1;
  }
}

async function runScript(argv: string[], write: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [script, ...args] = argv;
  // The inline PHP the archiver runs (activities/moodle/host.ts). Doctor's write probe: make and remove
  // a file in the folder it names, as this (the CLI) user.
  if (script === '-r' && args[0]?.includes('file_put_contents') && args[1]) {
    const probe = join(args[1], `.archiver-probe-${process.pid}`);
    try {
      writeFileSync(probe, 'probe');
      rmSync(probe);
      return 0;
    } catch (e) {
      write(`file_put_contents(${probe}): Failed to open stream: ${(e as Error).message}`);
      return 3;
    }
  }
  // The archiver's other inline PHP: remove a file from a course's backup area through the file API.
  if (script === '-r' && args[0]?.includes('get_area_files') && args.length === 4) {
    const [, moodleDir, courseId, filename] = args;
    const file = join(new CliSite(moodleDir).layout.backupArea(Number(courseId)), basename(filename));
    const there = basename(filename) === filename && existsSync(file);
    if (there) rmSync(file);
    write(`removed ${there ? 1 : 0}\n`);
    return 0;
  }
  if (!script) {
    err('Usage: php <script> [args]\n');
    return 1;
  }
  if (!existsSync(script)) {
    write(`Could not open input file: ${script}\n`);
    return 1;
  }
  const site = new CliSite(resolve(dirname(script), '..', '..'));
  const out = write;
  const name = basename(script);
  const run = { 'backup.php': backup, 'restore_backup.php': restore, 'delete_course.php': deleteCourse }[name];
  if (!run) {
    write(`Could not open input file: ${script}\n`);
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

// Run as the `php` binary (not imported by the simulator's server).
if (/php(-main)?\.cjs$/.test(process.argv[1] ?? ''))
  void runPhp(
    process.argv.slice(2),
    (t) => process.stdout.write(t),
    (t) => process.stderr.write(t),
  ).then((code) => {
    process.exitCode = code;
  });
