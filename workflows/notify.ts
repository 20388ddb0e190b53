// Telling the admins, from a workflow: a notification that cannot be
// delivered is logged and dropped; it never fails or delays the work for long.
import { CancellationScope, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Notification } from './types';

const { notify } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', maximumAttempts: 3 },
});

export async function notifySafely(n: Notification): Promise<void> {
  try {
    // Also when the session is being cancelled: that is news too.
    await CancellationScope.nonCancellable(() => notify(n));
  } catch (err) {
    log.warn('notification not delivered; the work goes on', { kind: n.kind, error: (err as Error).message });
  }
}
