// Retention's end (seed 001: GDPR deletion). The main worker, which reaches
// the catalog, checks that an archive's retention has passed; the host that
// holds it deletes it (a package from its storage, a course from the
// archive Moodle); the main worker marks it expired and logs it in the ledger.
import { ApplicationFailure, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { Catalog } from './catalog';
import { withHeartbeats } from './heartbeat';
import type { Sites } from './sites';
import { archiveMarkSource } from './restore';
import { storeOf } from './storage';
import { readPackage } from './storage/package';
import { audit } from './audit';
import { archiveExpiries } from './metrics';

/** Where an expired archive is: what its host needs to delete it. */
export interface ExpiringArchive {
  catalogId: number;
  targetSiteId: string;
  targetCourseId: number | null;
  storageLocation: string | null;
  /** What it must still be, checked where it is before it goes (absent in requests of an older archiver). */
  identity?: { sourceSiteId: string; sourceCourseId: number; mbzSha256: string; packageSha256: string | null };
}

export function expireActivities(sites: Sites, catalog: Catalog) {
  return {
    /** Main worker: the archive, if its retention has passed and it is still there. */
    async archiveToExpire({ catalogId, asOf }: { catalogId: number; asOf: string }): Promise<ExpiringArchive | null> {
      const row = await catalog.byId(catalogId);
      if (!row) throw ApplicationFailure.nonRetryable(`Catalog entry ${catalogId} does not exist`, 'NotInCatalog');
      if (row.expiredAt) return null;
      if (!row.retentionUntil || row.retentionUntil > new Date(asOf)) {
        throw ApplicationFailure.nonRetryable(
          `${row.sourceSiteId} course ${row.sourceCourseId} is kept until ${row.retentionUntil?.toISOString() ?? 'forever'}`,
          'RetentionNotPassed',
        );
      }
      return {
        catalogId,
        targetSiteId: row.targetSiteId,
        targetCourseId: row.targetCourseId,
        storageLocation: row.storageLocation,
        identity: {
          sourceSiteId: row.sourceSiteId,
          sourceCourseId: row.sourceCourseId,
          mbzSha256: row.mbzSha256,
          packageSha256: row.packageSha256,
        },
      };
    },

    /** The archive's host: delete it where it is, once it is proved to be the archive the catalog names (a catalog
     * row edited to point elsewhere deletes nothing); gone already is fine. */
    async deleteArchive(a: ExpiringArchive): Promise<void> {
      const storage = sites.storage(a.targetSiteId);
      const where = `${a.targetSiteId}:${a.storageLocation ?? `course ${a.targetCourseId}`}`;
      const mismatch = (what: string) =>
        ApplicationFailure.nonRetryable(
          `Not expiring ${where}: ${what}; it is not the archive its catalog row names, and stays`,
          'ArchiveIdentityMismatch',
        );
      if (!a.identity) throw mismatch('the request does not say what the archive must be');
      const id = a.identity;
      const of = `${id.sourceSiteId} course ${id.sourceCourseId}`;
      if (storage) {
        const store = storeOf(storage);
        if (!store.exists(a.storageLocation!)) return;
        const read = await readPackage(store, a.storageLocation!, (n) => heartbeat({ read: n }));
        const m = read.manifest;
        if (!m || m.source.siteId !== id.sourceSiteId || m.course.id !== id.sourceCourseId)
          throw mismatch(`its manifest is of ${m ? `${m.source.siteId} course ${m.course.id}` : 'nothing readable'}, not ${of}`);
        if (id.packageSha256 && read.packageSha256 !== id.packageSha256)
          throw mismatch(`its sha256 is ${read.packageSha256}, the catalog recorded ${id.packageSha256}`);
        store.remove(a.storageLocation!);
        archiveExpiries().add(1, { site: a.targetSiteId });
        audit({
          act: 'archive-expired',
          site: a.targetSiteId,
          deleted: a.storageLocation!,
          course: of,
          archive: where,
          ...(id.mbzSha256 ? { mbzSha256: id.mbzSha256 } : {}),
          packageSha256: read.packageSha256,
        });
      } else if (a.targetCourseId) {
        const [copy] = await sites.moodle(a.targetSiteId).coursesByField('id', a.targetCourseId);
        if (!copy) return;
        const mark = archiveMarkSource(copy.idnumber);
        if (
          !mark ||
          mark.siteId !== id.sourceSiteId ||
          mark.courseId !== id.sourceCourseId ||
          (mark.backup && !id.mbzSha256.startsWith(mark.backup))
        )
          throw mismatch(`its idnumber is ${JSON.stringify(copy.idnumber ?? '')}, not the archive mark of ${of}`);
        await withHeartbeats((onLine) => sites.host(a.targetSiteId).deleteCourse(a.targetCourseId!, onLine, cancellationSignal()));
        archiveExpiries().add(1, { site: a.targetSiteId });
        audit({
          act: 'archive-expired',
          site: a.targetSiteId,
          deleted: `course ${a.targetCourseId}`,
          course: of,
          ...(copy.shortname ? { shortname: copy.shortname } : {}),
          archive: where,
          ...(id.mbzSha256 ? { mbzSha256: id.mbzSha256 } : {}),
        });
      }
    },

    /** Main worker: mark it expired, and say so in the ledger. */
    async markExpired({ catalogId }: { catalogId: number }): Promise<void> {
      const row = (await catalog.byId(catalogId))!;
      await catalog.appendLedger({
        entryKey: `expired/${row.id}/${row.verifiedAt?.toISOString()}`,
        event: 'expired',
        sessionId: row.sessionId,
        sourceSiteId: row.sourceSiteId,
        sourceCourseId: row.sourceCourseId,
        detail: {
          targetSiteId: row.targetSiteId,
          targetCourseId: row.targetCourseId,
          storageLocation: row.storageLocation,
          retentionUntil: row.retentionUntil?.toISOString(),
          archiveVersion: row.version,
        },
      });
      if (!row.expiredAt) await catalog.markExpired(row.id, new Date());
    },
  };
}
