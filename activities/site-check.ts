// Before a session selects anything: each site it names answers with a
// supported Moodle release. The releases are recorded in the session.
import type { SiteRelease } from '../workflows/types';
import { assertSupportedRelease } from './moodle/releases';
import type { Sites } from './sites';

export function siteCheckActivities(sites: Sites) {
  return {
    async checkSites({ siteIds }: { siteIds: string[] }): Promise<SiteRelease[]> {
      const out: SiteRelease[] = [];
      for (const siteId of siteIds) {
        if (sites.storage(siteId)) continue; // a cold storage runs no Moodle
        const info = await sites.moodle(siteId).siteInfo();
        assertSupportedRelease(siteId, info.release);
        out.push({ siteId, release: info.release ?? '', version: info.version ?? '' });
      }
      return out;
    },
  };
}
