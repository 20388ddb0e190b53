// What an .mbz says about itself: its moodle_backup.xml, read straight from
// the gzip'd tar without unpacking it (a real Moodle writes it after files/,
// so the whole archive streams through; memory stays flat).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { XMLParser } from 'fast-xml-parser';
import * as tar from 'tar-stream';

/** The source course as its backup describes it: verification compares it with the source. */
export interface BackupInfo {
  originalCourseId: number;
  shortname: string;
  fullname: string;
  moodleRelease: string;
  sectionCount: number;
  activitiesByType: Record<string, number>;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]);

export function parseMoodleBackupXml(xml: string): BackupInfo {
  const info = new XMLParser({ parseTagValue: false, trimValues: true }).parse(xml)?.moodle_backup?.information;
  if (!info) throw new Error('moodle_backup.xml has no <information>: not a Moodle backup');
  const activitiesByType: Record<string, number> = {};
  for (const a of asArray<{ modulename: string }>(info.contents?.activities?.activity)) {
    activitiesByType[a.modulename] = (activitiesByType[a.modulename] ?? 0) + 1;
  }
  return {
    originalCourseId: Number(info.original_course_id),
    shortname: String(info.original_course_shortname ?? ''),
    fullname: String(info.original_course_fullname ?? ''),
    moodleRelease: String(info.moodle_release ?? ''),
    sectionCount: asArray(info.contents?.sections?.section).length,
    activitiesByType,
  };
}

/**
 * A sink to write an .mbz's bytes into, in order, and the description it
 * finds in them: a transfer feeds it as the bytes arrive, so the backup is
 * not read a second time. Gunzip runs on libuv's pool, beside the hashing.
 */
export function backupInfoReader(): { sink: Writable; info: Promise<BackupInfo> } {
  let xml: string | undefined;
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    const wanted = header.name.replace(/^\.\//, '') === 'moodle_backup.xml';
    stream.on('data', (c: unknown) => {
      if (wanted) chunks.push(c as Buffer);
    });
    stream.on('error', () => {}); // a broken archive fails the entry too; `info` reports it once
    stream.on('end', () => {
      if (wanted) xml = Buffer.concat(chunks).toString('utf8');
      next();
    });
  });
  const sink = createGunzip({ chunkSize: 1 << 20 }); // 16 KiB pieces (the default) cost 5x the CPU through tar-stream
  const info = pipeline(sink, extract).then(
    () => {
      if (xml === undefined) throw new Error('has no moodle_backup.xml: not a Moodle backup');
      return parseMoodleBackupXml(xml);
    },
    (e: unknown) => {
      throw new Error(`is not a readable .mbz (gzip'd tar): ${(e as Error).message}`);
    },
  );
  info.catch(() => {}); // a transfer that fails never awaits it
  return { sink, info };
}

/** Reads moodle_backup.xml out of an .mbz file. */
export async function readBackupInfo(file: string): Promise<BackupInfo> {
  const { sink, info } = backupInfoReader();
  const fed = pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), sink);
  try {
    return await info;
  } catch (e) {
    throw new Error(`${file} ${(e as Error).message}`);
  } finally {
    await fed.catch(() => {});
  }
}
