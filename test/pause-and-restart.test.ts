// Pause and resume a running session; restart the simulator and find its state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseSession, resumeSession, sessionStatus, startSession } from '../client/sessions';
import { startSimulator } from '../simulator/server';
import { join } from 'node:path';
import { startStack, until, type Stack } from './harness';

describe('pause and resume', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 10 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a paused session starts no new course, and finishes everything once resumed', async () => {
    const input = stack.sessionInput({ concurrency: 2, deleteSource: false });
    const handle = await startSession(stack.client, stack.config, input);
    await until(
      () => sessionStatus(stack.client, input.session),
      (s) => s.running > 0,
    );
    await pauseSession(stack.client, input.session);
    // Running courses finish; nothing new starts while paused.
    const drained = await until(
      () => sessionStatus(stack.client, input.session),
      (s) => s.paused && s.running === 0,
    );
    expect(drained.done).toBeLessThan(10);
    const archivedWhilePaused = stack.sim.sites.archive.store.data.courses.length;
    expect(archivedWhilePaused).toBe(drained.done);
    const again = await sessionStatus(stack.client, input.session);
    expect(again).toMatchObject({ paused: true, running: 0, done: drained.done });

    await resumeSession(stack.client, input.session);
    const result = await handle.result();
    expect(result.counts).toEqual({ succeeded: 10, failed: 0, skipped: 0, cancelled: 0 });
    expect(result.paused).toBe(false);
  });

  it('the simulator keeps its sites across a restart', async () => {
    const before = structuredClone(stack.sim.sites.archive.store.data.courses.map((c) => [c.id, c.shortname, c.visible]));
    expect(before.length).toBeGreaterThan(0);
    // What a stop does before a restart: the last second's changes reach the state file (they are written
    // at most once a second while the site runs; reading the file before that raced the timer).
    stack.sim.sites.archive.store.flush();
    const other = await startSimulator({ dataDir: join(stack.dir, 'moodle'), sites: [{ siteId: 'archive' }] });
    try {
      expect(other.sites.archive.store.data.courses.map((c) => [c.id, c.shortname, c.visible])).toEqual(before);
    } finally {
      await other.stop();
    }
  });
});
