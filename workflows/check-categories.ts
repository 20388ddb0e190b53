// checkCategories: what `schedule create` asks before it creates a schedule, so a category that does not exist is
// refused at once, not at the first fire a year later. The main queue's worker holds the tokens.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { categoryProblems } = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3 } });

export async function checkCategories(checks: { field: string; siteId: string; categoryId: number }[]): Promise<string[]> {
  return categoryProblems(checks);
}
