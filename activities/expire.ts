// Retention's end (seed 001: GDPR deletion): an archive whose retention has
// passed is deleted where it is, on the target's host (a package from its
// storage, a course from the archive Moodle), then marked expired in the
// catalog and logged in the ledger.
import { ApplicationFailure, cancellationSignal } from '@temporalio/activity';
import type { Catalog } from './catalog';
import { withHeartbeats } from './heartbeat';
import type { Sites } from './sites';
import { storeOf } from './storage';

export interface ExpireRequest { catalogId: number; asOf: string }

export function expireActivities(sites: Sites, catalog: Catalog) {
  return {
    async expireArchive({ catalogId, asOf }: ExpireRequest): Promise<'expired' | 'already-expired'> {
      const row = await catalog.byId(catalogId);
      if (!row) throw ApplicationFailure.nonRetryable(`Catalog entry ${catalogId} does not exist`, 'NotInCatalog');
      if (row.expiredAt) return 'already-expired';
      if (!row.retentionUntil || row.retentionUntil > new Date(asOf)) {
        throw ApplicationFailure.nonRetryable(`${row.sourceSiteId} course ${row.sourceCourseId} is kept until ${row.retentionUntil?.toISOString() ?? 'forever'}`, 'RetentionNotPassed');
      }
      const storage = sites.storage(row.targetSiteId);
      if (storage) storeOf(storage).remove(row.storageLocation!);
      else if (row.targetCourseId) {
        await withHeartbeats((onLine) => sites.host(row.targetSiteId).deleteCourse(row.targetCourseId!, onLine, cancellationSignal()));
      }
      const now = new Date();
      await catalog.appendLedger({
        entryKey: `expired/${row.id}/${row.verifiedAt?.toISOString()}`, event: 'expired', sessionId: row.sessionId,
        sourceSiteId: row.sourceSiteId, sourceCourseId: row.sourceCourseId,
        detail: { targetSiteId: row.targetSiteId, targetCourseId: row.targetCourseId, storageLocation: row.storageLocation, retentionUntil: row.retentionUntil.toISOString() },
      });
      await catalog.markExpired(row.id, now);
      return 'expired';
    },
  };
}
