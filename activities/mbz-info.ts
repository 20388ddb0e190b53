// What an .mbz says about itself: its moodle_backup.xml, read straight from
// the gzip'd tar without unpacking it (a real Moodle writes it after files/,
// so the whole archive streams through; memory stays flat).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
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
    originalCourseId: Number(info.original_course_id), shortname: String(info.original_course_shortname ?? ''),
    fullname: String(info.original_course_fullname ?? ''), moodleRelease: String(info.moodle_release ?? ''),
    sectionCount: asArray(info.contents?.sections?.section).length, activitiesByType,
  };
}

/** Reads moodle_backup.xml out of an .mbz; onBytes reports progress (heartbeats). */
export async function readBackupInfo(file: string, onBytes: (n: number) => void = () => {}): Promise<BackupInfo> {
  let xml: string | undefined;
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    const wanted = header.name.replace(/^\.\//, '') === 'moodle_backup.xml';
    stream.on('data', (c: unknown) => { if (wanted) chunks.push(c as Buffer); });
    stream.on('end', () => {
      if (wanted) xml = Buffer.concat(chunks).toString('utf8');
      next();
    });
  });
  let n = 0;
  const source = createReadStream(file, { highWaterMark: 1 << 20 }).on('data', (c) => onBytes((n += c.length)));
  try {
    await pipeline(source, createGunzip(), extract);
  } catch (e) {
    throw new Error(`${file} is not a readable .mbz (gzip'd tar): ${(e as Error).message}`);
  }
  if (xml === undefined) throw new Error(`${file} has no moodle_backup.xml: not a Moodle backup`);
  return parseMoodleBackupXml(xml);
}
