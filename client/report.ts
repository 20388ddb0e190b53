// `report <session>`: a CSV (one row per course) and a self-contained HTML
// page an admin can mail: counts, durations, failures with their reasons,
// and a link per course into the Temporal Web UI.
import { toCsv } from './csv';
import type { ReportCourse, SessionReport } from './inspect';
import { formatDuration } from './render';
import { finishedOverTime, phaseDurationsBySize, timePerHost } from './report-charts';
import { PHASE_NAMES } from '../workflows/phases';
import { wallClock } from '../workflows/windows';

const CSV_COLUMNS: (keyof ReportCourse)[] = [
  'courseId',
  'shortname',
  'fullname',
  'status',
  'startedAt',
  'closedAt',
  'seconds',
  'failedPhase',
  'reason',
  'mbzBytes',
  'targetCourseId',
  'sourceDeleted',
  'link',
];

export const reportCsv = (r: SessionReport) => toCsv(r.courses, CSV_COLUMNS);

const escape = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The page, its times in `zone` (the operator's: the report command passes this machine's). */
export function reportHtml(r: SessionReport, zone = 'UTC'): string {
  const at = (iso: string | null | undefined) => (iso ? wallClock(Date.parse(iso), zone) : '');
  const sc = r.scope;
  const scopeLine = sc
    ? `From <b>${escape(sc.sourceSiteId)}</b> category ${sc.sourceCategoryId}${sc.sourceCategoryName ? ` (${escape(sc.sourceCategoryName)})` : ''} to <b>${escape(sc.targetSiteId)}</b>${sc.targetCategoryId !== undefined ? ` category ${sc.targetCategoryId}` : ''}; sources ${sc.deleteSource ? 'deleted once their archive was verified' : 'kept'}.`
    : '';
  const ends = r.courses.flatMap((c) => (c.closedAt && c.status !== 'running' ? [Date.parse(c.closedAt)] : []));
  const hostTotals = new Map<string, number>();
  for (const p of r.phases) hostTotals.set(p.host, (hostTotals.get(p.host) ?? 0) + p.seconds);
  const pictures = [
    finishedOverTime(Date.parse(r.startedAt), ends, (ms) => wallClock(ms, zone).replace(` ${zone}`, '')),
    phaseDurationsBySize(r.phases, PHASE_NAMES),
    timePerHost(
      [...hostTotals].map(([host, seconds]) => ({ host, seconds })),
      formatDuration,
    ),
  ].filter(Boolean);
  const counts = new Map<string, number>();
  for (const c of r.courses) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const durations = r.courses.flatMap((c) => (c.seconds !== null && c.status === 'succeeded' ? [c.seconds] : []));
  const med = median(durations);
  const elapsed = Date.parse(r.closedAt ?? r.generatedAt) - Date.parse(r.startedAt);
  const failed = r.courses.filter((c) => c.reason);
  const bytes = r.courses.reduce((n, c) => n + (c.mbzBytes ?? 0), 0);
  const cell = (v: unknown) => `<td>${escape(v)}</td>`;
  const courseRow = (c: (typeof r.courses)[number]) =>
    [
      `<tr><td><a href="${escape(c.link)}">${c.courseId}</a></td>`,
      cell(c.shortname),
      `<td class="${escape(c.status)}">${escape(c.status)}</td>`,
      cell(c.seconds !== null ? formatDuration(c.seconds * 1000) : ''),
      cell(c.mbzBytes !== null ? (c.mbzBytes / 1e6).toFixed(1) : ''),
      cell(c.targetCourseId ?? ''),
      cell(c.sourceDeleted === null ? '' : c.sourceDeleted ? 'yes' : 'no'),
      '</tr>',
    ].join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Archive session ${escape(r.session)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f3f3f3}.failed{color:#a00}.succeeded{color:#070}figure{margin:1em 0}figcaption{font-size:12px;color:#555}
</style></head><body>
<h1>Archive session ${escape(r.session)}</h1>
<p>Vintage <b>${escape(r.vintage)}</b>; ${escape(r.state || r.execution)}. Started ${escape(at(r.startedAt))}${r.closedAt ? `, ended ${escape(at(r.closedAt))}` : ', still running'} (${escape(formatDuration(elapsed))}).
<a href="${escape(r.link)}">Session in the Temporal Web UI</a>.</p>
${scopeLine ? `<p>${scopeLine}</p>` : ''}
${r.stoppedReason ? `<p class="failed"><b>Stopped:</b> ${escape(r.stoppedReason)}</p>` : ''}
<h2>Counts</h2>
<table><tr><th>status</th><th>courses</th></tr>
${[...counts].map(([k, v]) => `<tr><td class="${escape(k)}">${escape(k)}</td><td>${v}</td></tr>`).join('\n')}
<tr><th>total</th><th>${r.courses.length}</th></tr></table>
<p>${(bytes / 1e6).toFixed(1)} MB of backups archived.${med !== null ? ` Median course: ${escape(formatDuration(med * 1000))}; longest: ${escape(formatDuration(Math.max(...durations) * 1000))}.` : ''}</p>
${pictures.length ? `<h2>Pictures</h2>\n${pictures.join('\n')}` : ''}
<h2>Failures (${failed.length})</h2>
${
  failed.length
    ? `<table><tr><th>course</th><th>shortname</th><th>phase</th><th>reason</th></tr>
${failed.map((c) => `<tr><td><a href="${escape(c.link)}">${c.courseId}</a></td>${cell(c.shortname)}${cell(c.failedPhase)}${cell(c.reason)}</tr>`).join('\n')}</table>`
    : '<p>None.</p>'
}
<h2>Courses</h2>
<table><tr><th>course</th><th>shortname</th><th>status</th><th>duration</th><th>backup MB</th><th>archive course</th><th>source deleted</th></tr>
${r.courses.map(courseRow).join('\n')}
</table>
${r.ledgerHead ? `<p>Catalog ledger head: entry ${r.ledgerHead.seq}, <code>${escape(r.ledgerHead.hash)}</code>. Keep it: <code>moodle-archiver catalog verify --head ${r.ledgerHead.seq}:${escape(r.ledgerHead.hash)}</code> shows a ledger cut off or rewritten since.</p>` : ''}
<p><small>Generated ${escape(at(r.generatedAt))} by moodle-session-archiver.</small></p>
</body></html>
`;
}
