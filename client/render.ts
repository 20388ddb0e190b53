// How a session's progress looks in a terminal: a table and a progress bar.
import { SingleBar, Presets } from 'cli-progress';
import type { SessionStatus } from './sessions';

export function renderStatus(session: string, s: SessionStatus): string {
  const lines = [
    `Session ${session}: ${s.finished ? 'finished' : s.paused ? 'PAUSED' : 'running'}, ${s.done}/${s.total} courses (${s.percent}%)`,
    '',
    `  ${'status'.padEnd(12)} courses`,
    ...Object.entries({ running: s.running, pending: s.pending, ...s.counts }).map(([k, v]) => `  ${k.padEnd(12)} ${v}`),
    '',
    `  ${'phase'.padEnd(12)} running`,
    ...Object.entries(s.runningByPhase).map(([k, v]) => `  ${k.padEnd(12)} ${v}`),
  ];
  if (s.failed.length) {
    lines.push('', '  failed courses:');
    for (const f of s.failed) lines.push(`    course ${f.courseId}: ${f.phase} ${f.errorType}: ${f.message}`);
  }
  return lines.join('\n');
}

/** A progress bar on stderr; update() with each progress reading. */
export function progressBar() {
  const bar = new SingleBar({
    format: 'archiving |{bar}| {percentage}% | {value}/{total} courses | {succeeded} ok, {failed} failed, {skipped} skipped | ETA {eta_formatted}',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 5000,
    stream: process.stderr,
  }, Presets.shades_classic);
  let started = false;
  return {
    update(s: SessionStatus) {
      const payload = { succeeded: s.counts.succeeded, failed: s.counts.failed, skipped: s.counts.skipped };
      if (!started) { bar.start(Math.max(s.total, 1), s.done, payload); started = true; }
      bar.setTotal(Math.max(s.total, 1));
      bar.update(s.done, payload);
    },
    stop() { if (started) bar.stop(); },
  };
}
