// Folders the archiver makes inside a staging folder are shared with the
// Moodle CLI user (backup.php runs as the web server's user and writes
// there): each new folder takes its parent's permission bits, setgid
// included, and its parent's group, instead of the worker's umask (755 would
// lock the CLI user out of every new session folder).
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** mkdir -p, each created folder with its parent's mode and group. */
export function makeSharedDir(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeSharedDir(parent);
  const p = statSync(parent);
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return; // two courses of a session made it at once
    throw e;
  }
  // Root, or a member of the parent's group, may give it the parent's group; anyone else keeps their own.
  try {
    chownSync(dir, -1, p.gid);
  } catch {
    /* not ours to give: the mode still follows the parent */
  }
  chmodSync(dir, p.mode & 0o2777); // not sticky: /tmp's 1777 is no model for a staging folder
}
