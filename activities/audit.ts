// One log line for each destructive act (a source course deleted, an archive expired): a fixed shape a log
// shipper can keep and alert on, naming what was destroyed, where, and the archive that stands for it.
import { log } from '@temporalio/activity';

export interface AuditLine {
  act: 'source-deleted' | 'archive-expired';
  /** The site (or storage) where something was deleted, and what: "course 42", or a package's path. */
  site: string;
  deleted: string;
  /** The source course it is, as "prod course 42", and its shortname when known. */
  course: string;
  shortname?: string;
  session?: string;
  /** Where the archive is (source-deleted), or was (archive-expired). */
  archive: string;
  /** The backup's sha256 and, for a package, the package's. */
  mbzSha256?: string;
  packageSha256?: string;
}

/** At info, through the worker's logger: keep workers at LOG_LEVEL info or below to keep these. */
export function audit(line: AuditLine): void {
  log.info(`audit: ${line.act} ${line.site} ${line.deleted} (${line.course}; archive ${line.archive})`, { audit: line });
}
