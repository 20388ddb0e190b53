// transport (shared-path driver): stream the .mbz from the source site's
// staging folder to the target's, hashing on the fly, heartbeating the
// offset, and on a retry resuming from the last heartbeated offset.
import { activityInfo, cancellationSignal, heartbeat, ApplicationFailure } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync, truncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import type { Sites } from './sites';

interface TransportProgress { offset: number; total: number }

export function transportActivities(sites: Sites) {
  return {
    async transportBackup({ course, facts }: PhaseRequest): Promise<CourseFacts> {
      const src = join(sites.staging(course.sourceSiteId), facts.backupName!);
      const dest = join(sites.staging(course.targetSiteId), facts.backupName!);
      const part = `${dest}.part`;
      if (!existsSync(src)) throw ApplicationFailure.nonRetryable(`Backup ${src} is not visible from this host: is the source staging folder mounted here?`, 'StagingNotShared');
      const total = statSync(src).size;
      mkdirSync(dirname(dest), { recursive: true });

      // Resume: keep what a previous attempt wrote, up to its last heartbeat, and re-hash it locally.
      const prior = activityInfo().heartbeatDetails as TransportProgress | undefined;
      let offset = 0;
      const hash = createHash('sha256');
      if (prior?.offset && existsSync(part) && statSync(part).size >= prior.offset) {
        truncateSync(part, prior.offset);
        for await (const c of createReadStream(part)) hash.update(c as Buffer);
        offset = prior.offset;
      }
      let sent = offset;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          sent += chunk.length;
          heartbeat({ offset: sent, total } satisfies TransportProgress);
          cb(null, chunk);
        },
      });
      await pipeline(
        createReadStream(src, { start: offset, highWaterMark: 1 << 20 }),
        meter,
        createWriteStream(part, { flags: offset ? 'r+' : 'w', start: offset }),
        { signal: cancellationSignal() },
      );
      const sha = hash.digest('hex');
      if (sent !== facts.mbzBytes || sha !== facts.mbzSha256) {
        // Start over from zero next time: the bytes on disk cannot be trusted.
        truncateSync(part, 0);
        throw ApplicationFailure.retryable(`Transfer of ${facts.backupName} does not match the backup: ${sent} bytes sha256 ${sha}, expected ${facts.mbzBytes} bytes sha256 ${facts.mbzSha256}`, 'ChecksumMismatch', { offset: 0, total });
      }
      renameSync(part, dest);
      return {};
    },
  };
}
