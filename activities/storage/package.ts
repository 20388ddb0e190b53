// The sealed package of cold storage: a tar (the .mbz inside is already
// compressed) built with `archiver`, whose first member is manifest.json:
// where the course came from, what it was, and the sha256 of every other
// member. Verification re-reads the package and checks every checksum.
import { TarArchive } from 'archiver';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { backupInfoReader, type BackupInfo } from '../mbz-info';
import type { ArchiveStore } from './store';

export const PACKAGE_FORMAT = 'moodle-session-archiver/package@1';
export const MBZ_MEMBER = 'course.mbz';

export interface Manifest {
  format: typeof PACKAGE_FORMAT;
  createdAt: string;
  /** Null: kept for good. */
  retentionUntil: string | null;
  session: string;
  vintage: string;
  source: { siteId: string; url: string; moodleRelease: string };
  course: {
    id: number;
    /** The catalog's archive version (absent in packages of older archivers: 1). */
    version?: number;
    /** The source course when its backup began (activities/source-fingerprint.ts): a rebuilt catalog row resumes only
     * for a course still equal to it. Absent in packages of older archivers. */
    sourceFingerprint?: string | null;
    shortname: string;
    fullname: string;
    idnumber: string;
    categoryId: number;
    categoryPath: string;
  };
  members: { name: string; bytes: number; sha256: string }[];
}

const hashing = (hash: ReturnType<typeof createHash>, onBytes?: (n: number) => void) => {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      onBytes?.((n += chunk.length));
      cb(null, chunk);
    },
  });
};

/** Writes the package; returns its sha256. The .mbz is streamed from disk: memory stays flat. */
export async function writePackage(
  store: ArchiveStore,
  name: string,
  manifest: Manifest,
  mbzPath: string,
  onBytes?: (n: number) => void,
): Promise<string> {
  const archive = new TarArchive();
  const out = store.writer(name);
  const hash = createHash('sha256');
  const written = pipeline(archive, hashing(hash, onBytes), out.stream);
  archive.append(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), { name: 'manifest.json', date: new Date(manifest.createdAt) });
  archive.file(mbzPath, { name: MBZ_MEMBER, date: new Date(manifest.createdAt) });
  await archive.finalize();
  await written;
  await out.commit();
  return hash.digest('hex');
}

export interface PackageReading {
  manifest?: Manifest;
  /** What the .mbz member says of its course (its moodle_backup.xml), when it is a readable Moodle backup. */
  backup?: BackupInfo;
  packageSha256: string;
  /** Empty when every checksum matches. */
  problems: string[];
}

/** Reads a package end to end: the package's own sha256, the manifest, each member against it, and the .mbz
 * member as a Moodle backup of the course the manifest names. */
export async function readPackage(store: ArchiveStore, name: string, onBytes?: (n: number) => void): Promise<PackageReading> {
  const problems: string[] = [];
  const seen = new Map<string, { bytes: number; sha256: string }>();
  let manifest: Manifest | undefined;
  const whole = createHash('sha256');
  const extract = tar.extract();
  let backup: Promise<{ info?: BackupInfo; problem?: string }> = Promise.resolve({});
  extract.on('entry', (header, stream, next) => {
    const h = createHash('sha256');
    const chunks: Buffer[] = [];
    let bytes = 0;
    const isManifest = header.name === 'manifest.json';
    // The .mbz also goes through a reader of its moodle_backup.xml, at the reader's pace; a reader that fails
    // (not a gzip'd tar) lets the rest of the member through for its checksum.
    const reader = header.name === MBZ_MEMBER ? backupInfoReader() : undefined;
    let readerOk = true;
    if (reader) {
      backup = reader.info.then(
        (info) => ({ info }),
        (e: Error) => ({ problem: `${MBZ_MEMBER} ${e.message}` }),
      );
      reader.sink.on('error', () => {
        readerOk = false;
        stream.resume();
      });
    }
    stream.on('data', (c: unknown) => {
      h.update(c as Buffer);
      bytes += (c as Buffer).length;
      if (isManifest) chunks.push(c as Buffer);
      if (reader && readerOk && !reader.sink.write(c)) {
        stream.pause();
        reader.sink.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => {
      if (reader && readerOk) reader.sink.end();
      if (isManifest) {
        try {
          manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Manifest;
        } catch {
          problems.push('manifest.json is not valid JSON');
        }
      } else {
        seen.set(header.name, { bytes, sha256: h.digest('hex') });
      }
      next();
    });
  });
  try {
    await pipeline(store.reader(name), hashing(whole, onBytes), extract);
  } catch (e) {
    problems.push(`not a readable tar: ${(e as Error).message}`);
  }
  if (!manifest) {
    problems.push('no manifest.json');
  } else {
    if (manifest.format !== PACKAGE_FORMAT) problems.push(`format "${manifest.format}", expected "${PACKAGE_FORMAT}"`);
    for (const m of manifest.members ?? []) {
      const got = seen.get(m.name);
      if (!got) problems.push(`member ${m.name} is missing`);
      else if (got.sha256 !== m.sha256 || got.bytes !== m.bytes)
        problems.push(`member ${m.name}: ${got.bytes} bytes sha256 ${got.sha256}, the manifest says ${m.bytes} bytes sha256 ${m.sha256}`);
    }
    for (const n of seen.keys()) if (!manifest.members?.some((m) => m.name === n)) problems.push(`member ${n} is not in the manifest`);
  }
  const { info, problem } = await backup;
  if (problem) problems.push(problem);
  if (manifest && info && info.originalCourseId !== manifest.course?.id)
    problems.push(`${MBZ_MEMBER} is a backup of course ${info.originalCourseId}, the manifest names course ${manifest.course?.id}`);
  return { manifest, backup: info, packageSha256: whole.digest('hex'), problems };
}
