// transport: bring the .mbz from the source to the target's staging folder,
// by the driver the config names for the pair (shared-path by default), on
// the target host, reading what the backup says about itself as it comes
// (for the verification before deletion).
import { stagingPath } from '../safe-path';
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import type { CourseFacts, PhaseRequest } from '../../workflows/types';
import type { TransportSettings } from '../../contract';
import { backupInfoReader } from '../mbz-info';
import type { Sites } from '../sites';
import { readThrough, receiveResumable, type Received } from './receive';
import { makeSharedDir } from '../shared-dir';
import { bytesMoved } from '../metrics';

/** Brings the backup to `<dest>.part`, and writes its bytes, in order, to `sink` as they come. */
type Driver = (req: PhaseRequest, route: TransportSettings, dest: string, sink: Writable) => Promise<Received>;

const mbps = (route: TransportSettings) => (route.maxMBps ? route.maxMBps * 1e6 : undefined);

/** Both hosts mount the staging folders: a local stream from the source's folder (or a rename, for "move" on one disk). */
function sharedPath(sites: Sites): Driver {
  return async ({ course, facts }, route, dest, sink) => {
    const src = stagingPath(route.sourceMount ?? sites.staging(course.sourceSiteId), facts.backupName!);
    const part = `${dest}.part`;
    const expected = { bytes: facts.mbzBytes, sha256: facts.mbzSha256 };
    if (route.mode === 'move' && !existsSync(src) && existsSync(part)) return checkMoved(part, facts, sink); // moved before the last attempt died
    if (!existsSync(src)) {
      throw ApplicationFailure.nonRetryable(
        `Backup ${src} is not visible from this host: is the source staging folder mounted here (transports[].sourceMount)?`,
        'StagingNotShared',
      );
    }
    if (route.mode === 'move') {
      try {
        makeSharedDir(dirname(part));
        renameSync(src, part); // one disk: nothing to copy
        return await checkMoved(part, facts, sink);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      }
    }
    const received = await receiveResumable({
      dest,
      name: facts.backupName!,
      expected,
      bytesPerSecond: mbps(route),
      alsoTo: sink,
      open: async (offset) => ({
        body: createReadStream(src, { start: offset, highWaterMark: 1 << 20 }),
        offset,
        total: statSync(src).size,
      }),
    });
    if (route.mode === 'move') rmSync(src, { force: true });
    return received;
  };
}

async function checkMoved(part: string, facts: CourseFacts, sink: Writable): Promise<Received> {
  const hash = createHash('sha256');
  await readThrough(part, [hash], sink, (n) => heartbeat({ hashed: n }));
  sink.end();
  const sha256 = hash.digest('hex');
  const bytes = statSync(part).size;
  if (sha256 !== facts.mbzSha256 || bytes !== facts.mbzBytes) {
    throw ApplicationFailure.nonRetryable(
      `Moved backup ${part} does not match what the backup phase wrote (${bytes} bytes, sha256 ${sha256}); retry the course from its backup`,
      'ChecksumMismatch',
    );
  }
  return { part, bytes, sha256, sent: 0, resumedFrom: bytes };
}

/** The hosts share nothing: pull the backup from the source course's backup area over HTTP, resumably, checked against its ETag. */
function moodleWs(sites: Sites): Driver {
  return async ({ course, facts }, route, dest, sink) => {
    const source = sites.moodle(course.sourceSiteId);
    const file = (await source.backupAreaFiles(course.courseId)).find((f) => f.filename === facts.backupName);
    if (!file) {
      throw ApplicationFailure.nonRetryable(
        `${facts.backupName} is no longer in the backup area of ${course.sourceSiteId} course ${course.courseId}; retry the course once its backup is there`,
        'BackupNotFound',
      );
    }
    return receiveResumable({
      dest,
      name: facts.backupName!,
      expected: { bytes: file.filesize },
      bytesPerSecond: mbps(route),
      alsoTo: sink,
      open: async (offset, prior) => {
        const d = await source.download(file, offset, prior?.etag);
        return { body: d.body, offset: d.offset, total: d.total, sha1: d.etag || undefined };
      },
    });
  };
}

export function transportActivities(sites: Sites) {
  const drivers: Record<TransportSettings['driver'], Driver> = { 'shared-path': sharedPath(sites), 'moodle-ws': moodleWs(sites) };
  return {
    async transportBackup(req: PhaseRequest): Promise<CourseFacts> {
      const { course, facts } = req;
      const route = sites.route(course.sourceSiteId, course.targetSiteId);
      const dest = stagingPath(sites.staging(course.targetSiteId), facts.backupName!);
      const reader = backupInfoReader();
      const received = await drivers[route.driver](req, route, dest, reader.sink);
      const backupInfo = await reader.info.catch((e: Error) => {
        throw new Error(`${received.part} ${e.message}`);
      });
      renameSync(received.part, dest);
      bytesMoved().add(received.sent, { route: `${course.sourceSiteId}->${course.targetSiteId}`, driver: route.driver });
      return {
        mbzBytes: received.bytes,
        mbzSha256: received.sha256,
        transferredBytes: received.sent,
        resumedFrom: received.resumedFrom,
        backupInfo,
      };
    },
  };
}
