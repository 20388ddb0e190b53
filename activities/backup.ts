// backup: Moodle's admin/cli/backup.php on the source host. For a
// shared-path route it writes to the source staging folder and the file's
// sha256 is taken here, where it was made; for a moodle-ws route it stays
// in the course's backup area (no path is shared), where the target host
// will find it by web service.
import { activityInfo, heartbeat, cancellationSignal, ApplicationFailure } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { withHeartbeats } from './heartbeat';
import { readThrough } from './transport/receive';
import type { Sites } from './sites';
import { makeSharedDir } from './shared-dir';
import { namedFolder, stagingPath } from './safe-path';

async function sha256File(path: string, onProgress?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  await readThrough(path, [hash], undefined, onProgress);
  return hash.digest('hex');
}

/** backup.php's default file name starts so: how a course's own backups are told from others. */
export const backupFilePrefix = (courseId: number) => `backup-moodle2-course-${courseId}-`;

export function backupActivities(sites: Sites) {
  return {
    async backupCourse({ course }: PhaseRequest): Promise<CourseFacts> {
      const host = sites.host(course.sourceSiteId);
      if (sites.route(course.sourceSiteId, course.targetSiteId).driver === 'moodle-ws') {
        // backup.php prints no name here: the newest file of the course's own made since this step was scheduled is it.
        const since = Math.floor(activityInfo().scheduledTimestampMs / 1000) - 1;
        const newest = async () =>
          (await sites.moodle(course.sourceSiteId).backupAreaFiles(course.courseId))
            .filter((f) => f.filename.startsWith(backupFilePrefix(course.courseId)) && f.timemodified >= since)
            .sort((a, b) => b.timemodified - a.timemodified)[0];
        // A retry after backup.php finished (the site failed the look-up, or the worker died) uses that file:
        // an hour-long backup is not made twice.
        let file = activityInfo().attempt > 1 ? await newest() : undefined;
        if (!file) {
          await withHeartbeats((onLine) => host.backupToArea(course.courseId, onLine, cancellationSignal()));
          file = await newest();
        }
        if (!file)
          throw ApplicationFailure.retryable(
            `backup.php reported success but no new file is in the backup area of course ${course.courseId}`,
            'BackupNotFound',
          );
        // Its name comes from the site: it becomes a staging file name on the target host.
        stagingPath(sites.staging(course.targetSiteId), file.filename, 'the backup area file name');
        return { backupName: file.filename, mbzBytes: file.filesize };
      }
      const staging = sites.staging(course.sourceSiteId);
      const dir = namedFolder(staging, course.session, 'session name');
      makeSharedDir(dir);
      // The file is only known from backup.php's output: its name, checked, in the folder backup.php was given.
      const printed = await withHeartbeats((onLine) => host.backup(course.courseId, dir, onLine, cancellationSignal()));
      const backupName = `${course.session}/${basename(printed)}`;
      const file = stagingPath(staging, backupName, 'the file backup.php wrote');
      const mbzSha256 = await sha256File(file, (bytes) => heartbeat({ hashed: bytes }));
      return { backupName, mbzBytes: statSync(file).size, mbzSha256 };
    },
  };
}
