// Before a session selects anything: each site it names answers with a
// supported Moodle release, and the target category exists (else every
// course would be backed up and moved for nothing). The releases are
// recorded in the session.
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract';
import type { SiteRelease } from '../workflows/types';
import { assertSupportedRelease } from './moodle/releases';
import type { Sites } from './sites';

export function siteCheckActivities(sites: Sites) {
  return {
    async checkSites({ siteIds, target }: { siteIds: string[]; target?: { siteId: string; categoryId: number } }): Promise<SiteRelease[]> {
      const out: SiteRelease[] = [];
      for (const siteId of siteIds) {
        if (sites.storage(siteId)) continue; // a cold storage runs no Moodle
        const info = await sites.moodle(siteId).siteInfo();
        assertSupportedRelease(siteId, info.release);
        out.push({ siteId, release: info.release ?? '', version: info.version ?? '' });
      }
      if (target && !sites.storage(target.siteId)) {
        const found = await sites.moodle(target.siteId).categories({ id: target.categoryId }, false);
        if (!found.some((c) => c.id === target.categoryId))
          throw ApplicationFailure.nonRetryable(
            `targetCategoryId: category ${target.categoryId} does not exist on ${target.siteId}; create it, or give the id of an existing one (Site administration > Courses > Manage courses and categories)`,
            FailureType.TargetCategoryNotFound,
          );
      }
      return out;
    },
  };
}
