// A cold-storage target's restore and verification: seal the course into a
// package in the storage, and re-read it before anything is deleted.
import { stagingPath } from '../safe-path';
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { CourseFacts, PhaseRequest } from '../../workflows/types';
import type { StorageSettings } from '../../contract';
import type { Sites } from '../sites';
import { MBZ_MEMBER, PACKAGE_FORMAT, readPackage, writePackage, type Manifest } from './package';
import { FolderStore, type ArchiveStore } from './store';

export const storeOf = (storage: StorageSettings): ArchiveStore => new FolderStore(storage.path);

/** One segment of a package's path from a name (a vintage label, a shortname): never "." or "..", never empty. */
const safe = (s: string) =>
  s
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^\./, '_')
    .slice(0, 80) || '_';

/** Where a course's package goes: one folder per source site and vintage; a later version of the archive beside the first. */
export const packageName = (course: PhaseRequest['course'], shortname: string, version = 1) =>
  `${course.sourceSiteId}/${safe(course.vintage)}/${course.courseId}-${safe(shortname)}${version > 1 ? `.v${version}` : ''}.tar`;

export async function sealCourse(sites: Sites, storage: StorageSettings, { course, facts }: PhaseRequest): Promise<CourseFacts> {
  const name = packageName(course, facts.shortname!, facts.archiveVersion);
  const manifest: Manifest = {
    format: PACKAGE_FORMAT,
    createdAt: new Date().toISOString(),
    retentionUntil: facts.retentionUntil ?? null,
    session: course.session,
    vintage: course.vintage,
    source: {
      siteId: course.sourceSiteId,
      url: sites.settings(course.sourceSiteId).url,
      moodleRelease: facts.backupInfo?.moodleRelease ?? '',
    },
    course: {
      id: course.courseId,
      version: facts.archiveVersion ?? 1,
      sourceFingerprint: facts.sourceFingerprint ?? null,
      shortname: facts.shortname!,
      fullname: facts.fullname!,
      idnumber: facts.idnumber ?? '',
      categoryId: facts.sourceCategoryId!,
      categoryPath: facts.categoryPath ?? '',
    },
    members: [{ name: MBZ_MEMBER, bytes: facts.mbzBytes!, sha256: facts.mbzSha256! }],
  };
  // Written again on a retry: the store only shows a package once it is whole.
  const packageSha256 = await writePackage(storeOf(storage), name, manifest, stagingPath(storage.staging, facts.backupName!), (n) =>
    heartbeat({ written: n }),
  );
  return { storageLocation: name, packageSha256 };
}

/** The package re-reads clean: every checksum as recorded, and it is this course's. */
export async function verifySealed(storage: StorageSettings, { course, facts }: PhaseRequest): Promise<void> {
  const store = storeOf(storage);
  const where = `${storage.storageId}:${facts.storageLocation}`;
  if (!store.exists(facts.storageLocation!)) throw ApplicationFailure.nonRetryable(`Package ${where} is missing`, 'VerificationFailed');
  const read = await readPackage(store, facts.storageLocation!, (n) => heartbeat({ read: n }));
  const m = read.manifest;
  const problems = [...read.problems];
  if (facts.packageSha256 && read.packageSha256 !== facts.packageSha256)
    problems.push(`package sha256 ${read.packageSha256}, written as ${facts.packageSha256}`);
  if (m && (m.course.id !== course.courseId || m.source.siteId !== course.sourceSiteId))
    problems.push(`the manifest is of ${m.source.siteId} course ${m.course.id}`);
  const mbz = m?.members.find((x) => x.name === MBZ_MEMBER);
  if (m && mbz?.sha256 !== facts.mbzSha256) problems.push(`its .mbz has sha256 ${mbz?.sha256}, the transfer had ${facts.mbzSha256}`);
  if (problems.length)
    throw ApplicationFailure.nonRetryable(`Package ${where} does not re-read clean: ${problems.join('; ')}`, 'VerificationFailed');
}
