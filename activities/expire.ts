// Retention's end (seed 001: GDPR deletion). The main worker, which reaches
// the catalog, checks that an archive's retention has passed; the host that
// holds it deletes it (a package from its storage, a course from the
// archive Moodle); the main worker marks it expired and logs it in the ledger.
import { ApplicationFailure, cancellationSignal } from '@temporalio/activity';
import type { Catalog } from './catalog';
import { withHeartbeats } from './heartbeat';
import type { Sites } from './sites';
import { storeOf } from './storage';

/** Where an expired archive is: what its host needs to delete it. */
export interface ExpiringArchive {
  catalogId: number;
  targetSiteId: string;
  targetCourseId: number | null;
  storageLocation: string | null;
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
      return { catalogId, targetSiteId: row.targetSiteId, targetCourseId: row.targetCourseId, storageLocation: row.storageLocation };
    },

    /** The archive's host: delete it where it is; gone already is fine. */
    async deleteArchive(a: ExpiringArchive): Promise<void> {
      const storage = sites.storage(a.targetSiteId);
      if (storage) storeOf(storage).remove(a.storageLocation!);
      else if (a.targetCourseId) {
        await withHeartbeats((onLine) => sites.host(a.targetSiteId).deleteCourse(a.targetCourseId!, onLine, cancellationSignal()));
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
        },
      });
      if (!row.expiredAt) await catalog.markExpired(row.id, new Date());
    },
  };
}
