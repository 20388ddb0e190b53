// The ceiling: the least a course could cost the server, six no-op activities
// in a row, as bare as a workflow gets. Bundled on its own by the benchmark.
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1m' });

export async function sixNoOpActivities(): Promise<void> {
  for (let i = 0; i < 6; i++) await noop();
}
