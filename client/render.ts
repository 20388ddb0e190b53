// How a session's progress looks in a terminal: a table of counts per status
// and per phase, the running courses with their attempt and bytes moved, the
// failed courses, and a progress bar.
import { inert, inertLine } from './inert';
import { Presets, SingleBar } from 'cli-progress';
import { archiveLocation } from '../activities/catalog';
import { PHASE_NAMES } from '../workflows/phases';
import { describeVintageRule } from '../workflows/vintage';
import { wallClock } from '../workflows/windows';
import type { CourseDetails } from './inspect';
import type { ScheduleDetails } from './schedules';
import type { CourseStatus, SessionStatus } from './sessions';

const MB = 1024 * 1024;

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))} s`;
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return h < 48 ? `${h} h ${min % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

const when = (iso: string) => new Date(iso).toLocaleString('sv-SE', { dateStyle: 'short', timeStyle: 'short' });

export function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = rows.map((r) => r.map((c) => inertLine(String(c))));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd();
  return [line(header), ...cells.map(line)];
}

function courseProgressCell(c: CourseStatus): string {
  if (c.waitingFor) return `held: waiting for ${c.waitingFor}`;
  const b = c.activity?.bytes;
  if (b && b.total > 0) return `${(b.done / MB).toFixed(1)}/${(b.total / MB).toFixed(1)} MB (${Math.floor((100 * b.done) / b.total)}%)`;
  return withoutHostPaths(c.activity?.line ?? '').slice(0, 40);
}

/** A host's own paths (moodledata, staging) in an admin script's line, down to their last part: what a watcher
 * needs is which file, not where a host keeps it. */
export const withoutHostPaths = (line: string) => line.replace(/(?:\/[^\s/'"]+)+\/([^\s/'"]+)/g, '…/$1');

export function renderStatus(session: string, s: SessionStatus): string {
  const now = Date.parse(s.asOf);
  const rate = s.coursesPerHour ? `, ${s.coursesPerHour} courses/h` : '';
  const eta = s.eta ? `, ETA ${when(s.eta)} (in ${formatDuration(Date.parse(s.eta) - now)})` : '';
  const lines = [`Session ${session}: ${s.state}, ${s.done}/${s.total} courses (${s.percent}%)${rate}${eta}`, `  ${s.note}`];
  if (s.window) {
    const w = s.window;
    lines.push(
      w.open
        ? `  window: open${w.closesAtLocal ? `, closes ${w.closesAtLocal}` : ''}${w.opensAtLocal ? `; next opens ${w.opensAtLocal}` : ''}`
        : `  window: closed, opens ${w.opensAtLocal}`,
    );
    // The session's own reading is as of its last task; it may have slept since.
    const clockNow = w.timezone ? wallClock(w.clockAtAsOf + (Date.now() - now) * w.speed, w.timezone) : w.localNow;
    lines.push(`  clock: ${clockNow}; concurrency ${s.concurrency}; ${s.deferred} deferred to the next window`);
  } else {
    lines.push(`  concurrency ${s.concurrency}`);
  }
  lines.push('');
  const statuses: [string, number][] = [['pending', s.pending], ['running', s.running], ...Object.entries(s.counts)];
  const phases: [string, number][] = [...PHASE_NAMES.map((p): [string, number] => [p, s.phases?.[p] ?? 0]), ['(held)', s.waiting]];
  const rows = Array.from({ length: Math.max(statuses.length, phases.length) }, (_, i) => [
    statuses[i]?.[0] ?? '',
    statuses[i]?.[1] ?? '',
    phases[i]?.[0] ?? '',
    phases[i]?.[1] ?? '',
  ]);
  lines.push(...table(['status', 'courses', 'phase', 'running'], rows));
  if (s.courses.length) {
    lines.push('', `  running courses, longest first (${s.courses.length} of ${s.running}):`);
    const since = new Map(s.runningCourses.map((c) => [c.courseId, Date.parse(c.since)]));
    lines.push(
      ...table(
        ['course', 'shortname', 'phase', 'step', 'attempt', 'for', 'progress'],
        s.courses.map((c) => [
          c.courseId,
          c.facts?.shortname ?? '',
          c.phase,
          c.step ?? '',
          c.activity ? `${c.activity.attempt}/${c.activity.maximumAttempts || '∞'}` : '',
          formatDuration(now - (since.get(c.courseId) ?? now)),
          courseProgressCell(c),
        ]),
      ),
    );
  }
  if (s.oversized.length) {
    lines.push('', '  longer than any window (started at the opening of the longest one, they overflow):');
    for (const o of s.oversized)
      lines.push(`    course ${o.courseId}: predicted ${formatDuration(o.predictedSeconds * 1000)}${o.running ? ', running' : ''}`);
  }
  if (s.queuedForRetry.length) lines.push('', `  queued for retry: ${s.queuedForRetry.join(', ')}`);
  if (s.toSkip.length) lines.push('', `  to skip when reached: ${s.toSkip.join(', ')}`);
  if (s.failed.length) {
    const until = s.decisionDeadline ? ` (retry or skip them before ${when(s.decisionDeadline)})` : ' (retry or skip them)';
    lines.push('', `  failed courses${until}:`);
    for (const f of s.failed)
      lines.push(`    course ${f.courseId}${f.shortname ? ` (${inertLine(f.shortname)})` : ''}: ${f.phase} ${f.errorType}: ${f.message}`);
  }
  return lines.join('\n');
}

/** A progress bar on stderr; update() with each progress reading. */
export function progressBar() {
  const bar = new SingleBar(
    {
      format:
        'archiving |{bar}| {percentage}% | {value}/{total} courses | {succeeded} ok, {failed} failed, {skipped} skipped | {rate} courses/h | ETA {etaText}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(s: SessionStatus) {
      const payload = {
        succeeded: s.counts.succeeded,
        failed: s.counts.failed,
        skipped: s.counts.skipped,
        rate: s.coursesPerHour,
        etaText: s.eta ? formatDuration(Date.parse(s.eta) - Date.parse(s.asOf)) : '-',
      };
      if (!started) {
        bar.start(Math.max(s.total, 1), s.done, payload);
        started = true;
      }
      bar.setTotal(Math.max(s.total, 1));
      bar.update(s.done, payload);
    },
    /** A line above the bar (the bar redraws below it). */
    log(text: string) {
      process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${inert(text)}`);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export const renderUpcoming = (upcoming: ScheduleDetails['upcoming'], zone: string) =>
  upcoming
    .slice(0, 3)
    .map((u) => `${wallClock(Date.parse(u.at), zone)} (vintage ${u.vintage ?? 'none yet'})`)
    .join(', ') || 'none';

export function renderSchedule({ description: d, input, upcoming }: ScheduleDetails): string {
  const zone = input.vintageRule.timezone;
  const lines = [
    `Schedule ${d.scheduleId}: ${d.state.paused ? `paused (${d.state.note ?? ''})` : 'active'}; overlap ${d.policies.overlap}`,
    `  fires: ${(d.spec.calendars ?? []).map((c) => c.comment ?? JSON.stringify(c)).join(', ') || JSON.stringify(d.spec)} (${d.spec.timezone ?? 'UTC'})`,
    `  vintage: ${describeVintageRule(input.vintageRule)}`,
    `  archives ${input.sourceSiteId} -> ${input.targetSiteId} category ${input.targetCategoryId}; concurrency ${input.concurrency}${input.deleteSource ? '; deletes sources once verified' : ''}`,
    `  next fires: ${renderUpcoming(upcoming, zone)}`,
    `  fired ${d.info.numActionsTaken} time(s); skipped ${d.info.numActionsSkippedOverlap} (a session was still running); missed ${d.info.numActionsMissedCatchupWindow}`,
  ];
  for (const a of d.info.runningActions) lines.push(`  running: ${a.workflow.workflowId}`);
  for (const a of d.info.recentActions.slice(-5))
    lines.push(`  fired ${wallClock(a.takenAt.getTime(), zone)}: ${a.action.workflow.workflowId}`);
  return lines.join('\n');
}

export function renderCourse(d: CourseDetails, link: string): string {
  const p = d.progress;
  const live = d.execution === 'RUNNING' ? (p as CourseStatus | null) : null;
  const facts = p?.facts;
  const lines = [
    `Course ${d.courseId} of session ${d.session}: ${p?.status ?? d.execution.toLowerCase()}${facts?.shortname ? ` (${facts.shortname}${facts.fullname ? `, ${facts.fullname}` : ''})` : ''}`,
    `  ${link}`,
  ];
  if (live?.activity) {
    const a = live.activity;
    lines.push(
      `  now: ${a.name}, attempt ${a.attempt}/${a.maximumAttempts || '∞'}${a.started ? '' : ' (waiting for a slot on its host)'}${a.lastFailure ? `; last failure: ${a.lastFailure}` : ''}`,
    );
  }
  if (live?.waitingFor) lines.push(`  held: waiting for ${live.waitingFor}`);
  if (facts?.note) lines.push(`  note: ${facts.note}`);
  if (p?.failure) lines.push(`  failed in ${p.failure.phase}: ${p.failure.errorType}: ${p.failure.message}`);
  lines.push(
    '',
    ...table(
      ['phase', 'started', 'took', 'attempts', 'outcome', 'last error'],
      d.phases.map((r) => [
        r.phase,
        r.startedAt ? r.startedAt.slice(0, 19).replace('T', ' ') : '',
        r.seconds !== null ? formatDuration(r.seconds * 1000) : '',
        r.attempts,
        r.outcome,
        (r.lastError ?? '').slice(0, 100),
      ]),
    ),
  );
  const c = d.catalog;
  lines.push(
    '',
    c
      ? `  catalog: ${c.version > 1 ? `version ${c.version}, ` : ''}${archiveLocation(c)}, ${(Number(c.mbzBytes) / 1e6).toFixed(1)} MB, sha256 ${c.mbzSha256.slice(0, 16)}…, verified ${c.verified ? 'yes' : 'no'}, source deleted ${c.sourceDeleted ? 'yes' : 'no'}, session ${c.sessionId}`
      : '  catalog: no row (not archived yet)',
  );
  return lines.join('\n');
}
