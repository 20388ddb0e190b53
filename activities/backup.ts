// backup: Moodle's admin/cli/backup.php on the source host, written to the
// source staging folder; the file's sha256 is taken here, where it was made.
import { heartbeat, cancellationSignal } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { withHeartbeats } from './heartbeat';
import type { Sites } from './sites';

export async function sha256File(path: string, onProgress?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
    onProgress?.(n);
  }
  return hash.digest('hex');
}

export function backupActivities(sites: Sites) {
  return {
    async backupCourse({ course }: PhaseRequest): Promise<CourseFacts> {
      const staging = sites.staging(course.sourceSiteId);
      const dir = join(staging, course.session);
      mkdirSync(dir, { recursive: true });
      const file = await withHeartbeats((onLine) => sites.host(course.sourceSiteId).backup(course.courseId, dir, onLine, cancellationSignal()));
      const mbzSha256 = await sha256File(file, (bytes) => heartbeat({ hashed: bytes }));
      return { backupName: relative(staging, join(dir, basename(file))), mbzBytes: statSync(file).size, mbzSha256 };
    },
  };
}
