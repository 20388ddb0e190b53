// Paths from untrusted names: a backup file name as Moodle reports it (the
// "Writing ..." line of backup.php, a backup area's listing), a session name
// from an operator or a schedule. Each name is checked against a strict
// pattern, and the path it makes is confined to its folder, before anything
// is written or deleted there.
import { ApplicationFailure } from '@temporalio/activity';
import { resolve, sep } from 'node:path';
import { SESSION_FOLDER } from '../contract';

/** A file name Moodle made (it may hold letters of any script): one segment, no control or format characters,
 * not "." or "..", at most 255 characters. */
const FILE_NAME = /^(?!\.\.?$)[^/\\\p{Cc}\p{Cf}]{1,255}$/u;

const refuse = (what: string, name: string, why: string) =>
  ApplicationFailure.nonRetryable(`${what} ${JSON.stringify(name)} ${why}; nothing was written or deleted`, 'UnsafeName');

/** `root`/`name` for a name that must be one of ours (a session's folder). */
export function namedFolder(root: string, name: string, what: string): string {
  if (!SESSION_FOLDER.test(name)) throw refuse(what, name, 'is not a safe folder name (letters, digits, ".", "_", ":", "-")');
  return confinedTo(root, resolve(root, name), what, name);
}

/**
 * The staging path of a backup: `name` is one file name, or a session folder and a file name ("<session>/<file>"),
 * each checked, and the result inside `root`.
 */
export function stagingPath(root: string, name: string, what = 'backup file name'): string {
  const parts = name.split('/');
  if (parts.length > 2 || !parts.every((p) => FILE_NAME.test(p)) || (parts.length === 2 && !SESSION_FOLDER.test(parts[0])))
    throw refuse(what, name, 'is not a backup file name (one name, or a session folder and one name)');
  if (!name.endsWith('.mbz')) throw refuse(what, name, 'is not an .mbz file name');
  return confinedTo(root, resolve(root, name), what, name);
}

/** `path`, once it is known to be inside `root`. */
export function confinedTo(root: string, path: string, what: string, name = path): string {
  const base = resolve(root);
  if (!path.startsWith(base + sep)) throw refuse(what, name, `leads outside ${base}`);
  return path;
}
