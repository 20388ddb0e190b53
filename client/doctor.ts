// `doctor`: what an administrator runs before a first session. It asks the
// workers to check every configured site on its own host, and prints each
// check, with what to change where one fails.
import type { Client } from '@temporalio/client';
import { needWorker } from './busy';
import type { ArchiverConfig } from '../contract';
import type { SetupReport } from '../workflows/check-setup';
import type { checkSetup } from '../workflows';

export async function runDoctor(
  client: Client,
  config: ArchiverConfig,
  opts: { siteIds?: string[]; selection?: { siteId: string; categoryId: number }; workerWaitSeconds?: number } = {},
): Promise<SetupReport> {
  // The checks run on the main queue's worker: without one, say so within the wait, naming the queue, instead of
  // waiting for a workflow nobody runs.
  const wait = opts.workerWaitSeconds ?? 30;
  await needWorker(client, config.mainQueue, wait, 'run doctor again');
  return client.workflow.execute<typeof checkSetup>('checkSetup', {
    workflowId: `archive-doctor/${new Date().toISOString()}`,
    taskQueue: config.mainQueue,
    // Each site's check waits at most `wait` for its worker, the sites one after another at worst.
    workflowExecutionTimeout: `${wait * ((opts.siteIds ?? Object.keys(config.sites)).length + 1) + 60}s`,
    args: [
      { siteIds: opts.siteIds ?? Object.keys(config.sites), selection: opts.selection, workerWaitSeconds: opts.workerWaitSeconds ?? 30 },
    ],
  });
}

export const doctorPassed = (report: SetupReport) => report.sites.every((s) => s.checks.every((c) => c.ok));

export function renderDoctor(report: SetupReport): string {
  const lines: string[] = [];
  if (report.largestCourse)
    lines.push(
      `Largest course of the category: ${report.largestCourse.courseId} (${(report.largestCourse.bytes / 1e6).toFixed(0)} MB declared)`,
      '',
    );
  for (const site of report.sites) {
    lines.push(`Site ${site.siteId}`);
    for (const c of site.checks) {
      lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}`);
      if (c.fix) lines.push(`       fix: ${c.fix}`);
    }
    lines.push('');
  }
  const failed = report.sites.flatMap((s) => s.checks.filter((c) => !c.ok));
  lines.push(failed.length ? `${failed.length} check(s) failed: fix them before a first session.` : 'Every check passed.');
  return lines.join('\n');
}
