// expireArchives: `catalog expire` as a workflow, so each deletion is a
// retried activity on the host that holds the archive, and the history says
// what was deleted, when, and what failed.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { siteQueue } from '../contract';

export interface ExpireArchivesInput {
  archives: { catalogId: number; targetSiteId: string }[];
  /** The date retention is judged at (ISO). */
  asOf: string;
}

export interface ExpireArchivesResult {
  expired: number[];
  failed: { catalogId: number; message: string }[];
}

const retry = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 3 };
const { archiveToExpire, markExpired } = proxyActivities<Activities>({ startToCloseTimeout: '5m', retry });

export async function expireArchives(input: ExpireArchivesInput): Promise<ExpireArchivesResult> {
  const result: ExpireArchivesResult = { expired: [], failed: [] };
  // A few at a time: deleting courses loads the archive Moodle as restores do.
  const queue = [...input.archives];
  const lane = async () => {
    for (let a = queue.shift(); a; a = queue.shift()) {
      const { deleteArchive } = proxyActivities<Activities>({
        taskQueue: siteQueue(a.targetSiteId),
        startToCloseTimeout: '2h',
        heartbeatTimeout: '2m',
        retry,
      });
      try {
        const archive = await archiveToExpire({ catalogId: a.catalogId, asOf: input.asOf });
        if (archive) await deleteArchive(archive);
        await markExpired({ catalogId: a.catalogId });
        result.expired.push(a.catalogId);
      } catch (err) {
        const cause = err instanceof ActivityFailure ? err.cause : err;
        result.failed.push({
          catalogId: a.catalogId,
          message: cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(cause),
        });
      }
    }
  };
  await Promise.all([lane(), lane(), lane()]);
  return result;
}
