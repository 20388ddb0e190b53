// Before a session selects anything: each site it names answers with a
// supported Moodle release, two site ids are not one Moodle, and the target
// category exists (else every course would be backed up and moved for
// nothing) and, on the source's own Moodle, is not inside what the session
// selects (it would archive its own archives). The releases are recorded in
// the session.
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType, wwwrootKey } from '../contract';
import type { SiteRelease } from '../workflows/types';
import { assertSupportedRelease } from './moodle/releases';
import type { Sites } from './sites';

export function siteCheckActivities(sites: Sites) {
  return {
    async checkSites({
      siteIds,
      target,
      sourceRoots,
    }: {
      siteIds: string[];
      target?: { siteId: string; categoryId: number };
      /** The source categories the session selects (with their subcategories or not: the target may be in neither). */
      sourceRoots?: number[];
    }): Promise<SiteRelease[]> {
      const out: SiteRelease[] = [];
      /** Each Moodle once, by the wwwroot it answers with (its own $CFG->wwwroot, whatever URL reached it). */
      const moodleOf = new Map<string, string>();
      for (const siteId of siteIds) {
        if (sites.storage(siteId)) continue; // a cold storage runs no Moodle
        const info = await sites.moodle(siteId).siteInfo();
        assertSupportedRelease(siteId, info.release);
        const key = wwwrootKey(info.siteurl);
        const other = moodleOf.get(key);
        if (other && other !== siteId)
          throw ApplicationFailure.nonRetryable(
            `sites.${siteId} and sites.${other} are one Moodle (both answer as ${info.siteurl}); keep one id for it in the config`,
            FailureType.SameMoodle,
          );
        moodleOf.set(key, siteId);
        if (!out.some((r) => r.siteId === siteId)) out.push({ siteId, release: info.release ?? '', version: info.version ?? '' });
      }
      if (target && !sites.storage(target.siteId)) {
        const [found] = (await sites.moodle(target.siteId).categories({ id: target.categoryId }, false)).filter(
          (c) => c.id === target.categoryId,
        );
        if (!found)
          throw ApplicationFailure.nonRetryable(
            `targetCategoryId: category ${target.categoryId} does not exist on ${target.siteId}; create it, or give the id of an existing one (Site administration > Courses > Manage courses and categories)`,
            FailureType.TargetCategoryNotFound,
          );
        // The source site is siteIds[0]: on the same Moodle, the archives must land outside what is selected.
        const sameMoodle = siteIds[0] === target.siteId || moodleOf.size < siteIds.filter((id) => !sites.storage(id)).length;
        const path = found.path.split('/').filter(Boolean).map(Number);
        const inside = sameMoodle ? (sourceRoots ?? []).find((root) => path.includes(root)) : undefined;
        if (inside !== undefined)
          throw ApplicationFailure.nonRetryable(
            `targetCategoryId: category ${target.categoryId} is inside source category ${inside} of the same Moodle: the session would archive its own archives; choose a target category outside the selected categories`,
            FailureType.TargetInsideSource,
          );
      }
      return out;
    },
  };
}
