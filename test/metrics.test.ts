// Each worker's Prometheus endpoint: the SDK's metrics and the archiver's own, scraped while a session runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../client/dev-server';
import { startSession } from '../client/sessions';
import { startStack, until, writeConfigFile, type Stack } from './harness';

const COURSES = 3;

/** One metric's value from a scrape, its labels matched as given (a line such as name{a="b",...} 3). */
function value(scrape: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of scrape.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe("a worker's metrics", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: COURSES, workers: false, latency: { fixedSeconds: 0.3, secondsPerMB: 0, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('moves as a session runs: courses by status, phase durations, bytes moved, deletions, the window', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const file = writeConfigFile(stack, { ...stack.rawConfig, metrics: { bindAddress: `127.0.0.1:${port}` } }, 'metrics.json');
    const worker = stack.workerProcess(undefined, file);
    try {
      await worker.started;
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(value(await scrape(), 'archiver_courses_finished_total')).toBe(0);
      const session = await startSession(stack.client, stack.config, stack.sessionInput({ deleteSource: true }));
      // While it runs: the first course ends, the others not yet.
      const during = await until(scrape, (s) => value(s, 'archiver_courses_finished_total') >= 1, 120_000);
      expect(value(during, 'archiver_phase_duration_count', { phase: 'prepare' })).toBeGreaterThanOrEqual(1);
      await session.result();
      const after = await until(scrape, (s) => value(s, 'archiver_courses_finished_total') === COURSES, 30_000);
      expect(value(after, 'archiver_courses_finished_total', { status: 'succeeded' })).toBe(COURSES);
      expect(value(after, 'archiver_phase_duration_count', { phase: 'backup' })).toBe(COURSES);
      expect(value(after, 'archiver_phase_duration_sum', { phase: 'backup' })).toBeGreaterThan(0);
      // Buckets up to 8 h: a large restore takes hours.
      expect(value(after, 'archiver_phase_duration_bucket', { phase: 'backup', le: '28800' })).toBe(COURSES);
      expect(value(after, 'archiver_bytes_moved_total')).toBeGreaterThan(0);
      expect(value(after, 'archiver_source_deletions_total', { site: 'prod' })).toBe(COURSES);
      expect(value(after, 'archiver_course_failures_total')).toBe(0);
      expect(value(after, 'archiver_window_open')).toBe(1);
      // The SDK's own, on the same endpoint.
      expect(value(after, 'temporal_workflow_completed_total')).toBeGreaterThanOrEqual(COURSES);
    } finally {
      await worker.stop();
    }
  });
});
