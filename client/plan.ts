// `plan`: what a session would do, without touching anything. The workers
// read the selection (with sizes) and the catalog; the report comes back as
// a table for people, or JSON/CSV for scripts and spreadsheets.
import type { Client } from '@temporalio/client';
import { workerPolls } from './busy';
import { toCsv } from './csv';
import type { ArchiverConfig } from '../contract';
import type { planSession } from '../workflows';
import type { PlanInput, PlanReport } from '../workflows/plan';
import { wallClock } from '../workflows/windows';
import { formatDuration, table } from './render';

export const PLAN_FORMATS = ['table', 'json', 'csv'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

export async function runPlan(client: Client, config: ArchiverConfig, input: PlanInput): Promise<PlanReport> {
  // The plan runs on the main worker: without one it would wait in silence.
  if (!(await workerPolls(client, config.mainQueue).catch(() => true)))
    process.stderr.write(
      `no worker polls queue "${config.mainQueue}": start one (moodle-archiver's worker, npm run worker); the plan waits for it\n`,
    );
  return client.workflow.execute<typeof planSession>('planSession', {
    workflowId: `archive-plan/${new Date().toISOString()}`,
    taskQueue: config.mainQueue,
    workflowExecutionTimeout: '1h',
    args: [input],
  });
}

const CSV_COLUMNS = [
  'courseId',
  'shortname',
  'categoryId',
  'bytes',
  'activities',
  'action',
  'reason',
  'predictedSeconds',
  'plannedStart',
  'plannedEnd',
  'overflows',
] as const;

export function renderPlan(report: PlanReport, format: PlanFormat, zone = 'UTC'): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  if (format === 'csv') return toCsv(report.courses, CSV_COLUMNS).trimEnd();
  const at = (iso?: string) => (iso ? wallClock(Date.parse(iso), zone) : '');
  const c = report.criteria;
  const t = report.totals;
  const p = report.prediction;
  const lines = [
    `Plan: ${c.sourceSiteId} categories ${c.categoryIds.join(', ')}${c.includeSubcategories ? ' with subcategories' : ' (no subcategories)'}` +
      `${c.courseIds.length ? `, courses ${c.courseIds.join(', ')}` : ''} -> ${c.targetSiteId} category ${c.targetCategoryId}`,
    `  excluded: ${[...c.excludeShortnames.map((x) => `shortname "${x}"`), ...c.excludeIdnumbers.map((x) => `idnumber "${x}"`)].join(', ') || 'none'}`,
    `  windows: ${c.windows}; concurrency ${c.concurrency}`,
    '',
    ...table(
      ['course', 'shortname', 'MB', 'activities', 'action', 'predicted', 'starts', 'why'],
      report.courses.map((x) => [
        x.courseId,
        x.shortname,
        x.action === 'excluded' ? '' : (x.bytes / 1e6).toFixed(1),
        x.action === 'excluded' ? '' : x.activities,
        x.action,
        x.predictedSeconds !== undefined ? formatDuration(x.predictedSeconds * 1000) : '',
        at(x.plannedStart),
        x.overflows ? 'longer than any window' : (x.reason ?? ''),
      ]),
    ),
    '',
    `${t.selected} course(s) selected: ${t.toArchive} to archive (${(t.bytes / 1e6).toFixed(0)} MB declared), ${t.alreadyArchived} already archived (skipped); ${t.excluded} excluded`,
    t.toArchive
      ? `Predicted: from ${at(p.start)} to ${at(p.end)} (${formatDuration(Date.parse(p.end) - Date.parse(p.start))}), ${p.windowsNeeded ? `${p.windowsNeeded} window(s)` : 'no windows: it runs straight through'}`
      : 'Nothing to archive.',
  ];
  if (p.oversized.length) lines.push(`Longer than any window (they run into closed hours): ${p.oversized.join(', ')}`);
  return lines.join('\n');
}
