// Runs Moodle's admin CLI scripts on the Moodle host (backup.php,
// restore_backup.php, delete_course.php) through a configurable command line
// (e.g. `sudo -u www-data php`), and reads their output the way they print it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { MoodleError } from './errors';

export interface HostCommand {
  /** The interpreter command line, e.g. ["sudo", "-u", "www-data", "php"]. */
  command: string[];
  /** The Moodle code directory (holds admin/cli/). */
  moodleDir: string;
  timeoutSeconds: number;
}

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The options the archiver passes each admin script (below): its --help must list every one. */
const SCRIPT_OPTIONS: Record<string, string[]> = {
  'backup.php': ['--courseid', '--destination'],
  'restore_backup.php': ['--file', '--categoryid'],
  'delete_course.php': ['--courseid', '--non-interactive', '--disablerecyclebin'],
};

/** PHP for canWrite: make and remove a file in the folder given as its argument; exit 3 with the reason if it cannot. */
export const WRITE_PROBE =
  "$f = $argv[1] . '/.archiver-probe-' . getmypid(); if (@file_put_contents($f, 'probe') === false) { echo error_get_last()['message'] ?? 'not writable'; exit(3); } unlink($f);";

/** Deletes the files named $argv[3] from course $argv[2]'s backup area, through Moodle's file API (in $argv[1]). */
export const REMOVE_FROM_BACKUP_AREA =
  "define('CLI_SCRIPT', true); [, $archiverDir, $archiverCourse, $archiverFile] = $argv; require($archiverDir . '/config.php'); " +
  '$ctx = context_course::instance((int) $archiverCourse, IGNORE_MISSING); $n = 0; ' +
  "if ($ctx) { foreach (get_file_storage()->get_area_files($ctx->id, 'backup', 'course', false, 'id', false) as $f) " +
  '{ if ($f->get_filename() === $archiverFile) { $f->delete(); $n++; } } } echo "removed $n\\n";';

export class MoodleHost {
  constructor(
    readonly siteId: string,
    private readonly cmd: HostCommand,
  ) {}

  /** Runs one admin/cli script; each output line goes to onLine (heartbeats); abort kills it. */
  run(script: string, args: string[], onLine: (line: string) => void = () => {}, signal?: AbortSignal): Promise<CliRun> {
    const [bin, ...pre] = this.cmd.command;
    const child = spawn(bin, [...pre, join(this.cmd.moodleDir, 'admin', 'cli', script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), this.cmd.timeoutSeconds * 1000);
    return new Promise((resolve, reject) => {
      child.on('error', (e) => {
        clearTimeout(timer);
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new MoodleError('host-misconfigured', this.siteId, script, `command not found: ${bin}`));
        } else if (e.name === 'AbortError') {
          reject(e);
        } else {
          reject(new MoodleError('transient', this.siteId, script, e.message));
        }
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        if (partial) onLine(partial);
        if (sig === 'SIGKILL' && !signal?.aborted) {
          reject(new MoodleError('transient', this.siteId, script, `killed after ${this.cmd.timeoutSeconds}s timeout`));
        } else {
          resolve({ exitCode: code ?? 1, stdout, stderr });
        }
      });
    });
  }

  /**
   * Whether the admin scripts run and take the options the archiver passes them: the command line and the
   * Moodle directory are right. Behaviour, not wording: help texts change between releases (4.5.11 gained --cmid).
   */
  async probe(): Promise<{ ok: boolean; detail: string }> {
    for (const [script, options] of Object.entries(SCRIPT_OPTIONS)) {
      const r = await this.run(script, ['--help']).catch((e: Error) => ({ exitCode: -1, stdout: e.message, stderr: '' }));
      const out = `${r.stdout}${r.stderr}`.trim();
      const missing = options.filter((o) => !new RegExp(`(^|[\\s,])${o}\\b`, 'm').test(out));
      if (r.exitCode !== 0 || missing.length) {
        const why = r.exitCode !== 0 ? `exit ${r.exitCode}` : `no ${missing.join(', ')} in its options`;
        return {
          ok: false,
          detail: `${this.cmd.command.join(' ')} ${join(this.cmd.moodleDir, 'admin', 'cli', script)} --help gave ${why}: ${out.split('\n')[0].slice(0, 160)}`,
        };
      }
    }
    return {
      ok: true,
      detail: `${Object.keys(SCRIPT_OPTIONS).join(', ')} run with ${this.cmd.command.join(' ')} in ${this.cmd.moodleDir}`,
    };
  }

  /**
   * Whether the CLI user (not the worker) can make a file in `dir`: backup.php writes there as that user.
   * PHP itself does the write, through the configured command line.
   */
  async canWrite(dir: string): Promise<{ ok: boolean; detail: string }> {
    const code = await this.php(WRITE_PROBE, [dir]);
    return code.exitCode === 0
      ? { ok: true, detail: `${this.cmd.command.join(' ')} can write in ${dir}` }
      : { ok: false, detail: `${this.cmd.command.join(' ')} cannot write in ${dir}: ${code.out.split('\n')[0].slice(0, 200)}` };
  }

  /** Inline PHP (`php -r`) as the CLI user, its arguments in $argv (never in the code: names are untrusted). */
  private php(code: string, args: string[]): Promise<{ exitCode: number; out: string }> {
    const [bin, ...pre] = this.cmd.command;
    return new Promise((resolve) => {
      const child = spawn(bin, [...pre, '-r', code, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), this.cmd.timeoutSeconds * 1000);
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ exitCode: -1, out: e.message });
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ exitCode: c ?? -1, out: out.trim() });
      });
    });
  }

  /**
   * Removes a backup.php file from a course's backup area (moodle-ws backups of a course that stays: no web
   * service can). A course already gone took its files with it.
   */
  async removeFromBackupArea(courseId: number, filename: string): Promise<number> {
    const r = await this.php(REMOVE_FROM_BACKUP_AREA, [this.cmd.moodleDir, String(courseId), filename]);
    const removed = /^removed (\d+)$/m.exec(r.out)?.[1];
    if (r.exitCode === 0 && removed !== undefined) return Number(removed);
    throw new MoodleError(
      'host-command-failed',
      this.siteId,
      'php -r (remove from backup area)',
      `exit ${r.exitCode}: ${r.out.split('\n')[0].slice(0, 200)}`,
    );
  }

  /** backup.php --destination: the produced file is only known from its "Writing ..." line. */
  async backup(courseId: number, destination: string, onLine?: (l: string) => void, signal?: AbortSignal): Promise<string> {
    const r = await this.run('backup.php', [`--courseid=${courseId}`, `--destination=${destination}`], onLine, signal);
    const written = /^Writing (.+\.mbz)\s*$/m.exec(r.stdout)?.[1];
    if (r.exitCode === 0 && written && /^Backup completed\.$/m.test(r.stdout)) return written;
    throw this.backupFailure(courseId, r);
  }

  /** backup.php without --destination: the file goes to the course's backup area, and no name is printed. */
  async backupToArea(courseId: number, onLine?: (l: string) => void, signal?: AbortSignal): Promise<void> {
    const r = await this.run('backup.php', [`--courseid=${courseId}`], onLine, signal);
    if (r.exitCode === 0 && /^Backup completed, the new file is listed in the backup area/m.test(r.stdout)) return;
    throw this.backupFailure(courseId, r);
  }

  private backupFailure(courseId: number, r: CliRun): MoodleError {
    return this.failure('backup.php', r, [
      [
        /Destination directory does not exists? or not writable/,
        'host-misconfigured',
        'the staging folder is not writable by the Moodle CLI user',
      ],
      [/Can't find data record in database table course/, 'missing-record', `course ${courseId} does not exist`],
      [/No admin account/, 'host-misconfigured', 'Moodle has no admin account'],
    ]);
  }

  /** restore_backup.php: the new course id is only known from its "Restored course ID: N" line. */
  async restore(file: string, categoryId: number, onLine?: (l: string) => void, signal?: AbortSignal): Promise<number> {
    const r = await this.run('restore_backup.php', [`--file=${file}`, `--categoryid=${categoryId}`], onLine, signal);
    const id = /Restored course ID: (\d+)/.exec(r.stdout)?.[1];
    if (r.exitCode === 0 && id) return Number(id);
    throw this.failure('restore_backup.php', r, [
      [/Incorrect category ID/, 'missing-record', `target category ${categoryId} does not exist`],
      [/requested file could not be found/, 'missing-record', `backup file ${file} is not on the target host`],
      // Two restores into one site at once, creating the same (shared) user: the next attempt finds the user made.
      [
        /duplicate key value violates unique constraint "mdl_user_mneuse_uix"/,
        'transient',
        `another restore into this site was creating the same user (${/Key \(mnethostid, username\)=\(\d+, ([^)]*)\)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'a shared student'}); restoresAtOnce above 1 lets that happen`,
      ],
      // Restore checks the backup's names as plain text: a tag in the full or short name stops it before any course is made.
      [
        /setting_invalid_text/,
        'invalid-course-data',
        'the backup holds a name with HTML markup, which restore refuses (setting_invalid_text)',
      ],
    ]);
  }

  /** delete_course.php with the recycle bin off (else Moodle backs the course up once more first). */
  async deleteCourse(courseId: number, onLine?: (l: string) => void, signal?: AbortSignal): Promise<'deleted' | 'not-found'> {
    const r = await this.run('delete_course.php', [`--courseid=${courseId}`, '--non-interactive', '--disablerecyclebin'], onLine, signal);
    if (r.exitCode === 0 && /^Done!$/m.test(r.stdout)) return 'deleted';
    if (/Course not found/.test(r.stdout + r.stderr)) return 'not-found';
    throw this.failure('delete_course.php', r, []);
  }

  private failure(script: string, r: CliRun, known: [RegExp, MoodleError['kind'], string][]): MoodleError {
    const out = `${r.stdout}\n${r.stderr}`;
    // The host's set-up, whatever the script: no retry will find a missing script or user.
    const setup: [RegExp, MoodleError['kind'], string][] = [
      [
        /Could not open input file/,
        'host-misconfigured',
        `no ${join(this.cmd.moodleDir, 'admin', 'cli', script)}: is cli.moodleDir the folder that holds admin/cli?`,
      ],
      [
        /(user|group) .* does not exist|unknown (user|login)|is not in the sudoers/i,
        'host-misconfigured',
        `the command line ${this.cmd.command.join(' ')} cannot run as its user: ${out.trim().split('\n')[0].slice(0, 160)}`,
      ],
    ];
    for (const [re, kind, detail] of [...setup, ...known]) if (re.test(out)) return new MoodleError(kind, this.siteId, script, detail);
    const bang = /^!!! (.*) !!!$/m.exec(out)?.[1];
    const last = out.trim().split('\n').filter(Boolean).pop() ?? '';
    return new MoodleError('host-command-failed', this.siteId, script, `exit ${r.exitCode}: ${bang ?? last}`);
  }
}
