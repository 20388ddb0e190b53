// Over moodle-ws, backup.php leaves each backup in the source course's own
// backup area. A course that stays on the source (the session keeps its
// sources here) must not keep it: its teachers would find the archiver's
// backups there, and the site's disk would fill session after session.
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moodleWs, startStack, type Stack } from './harness';

describe('a moodle-ws session that keeps its sources', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      courses: 3,
      configure: moodleWs,
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("archives every course and leaves nothing in the source courses' backup areas", async () => {
    const sources = stack.vintageCourseIds();
    const result = await stack.runSession(stack.sessionInput({ deleteSource: false }));
    expect(result.counts).toEqual({ succeeded: 3, failed: 0, skipped: 0, cancelled: 0 });
    expect(stack.vintageCourseIds()).toEqual(sources);
    const prod = stack.sim.sites.prod.store;
    // Each backup was there (the downloads came from it), and is gone now.
    expect(stack.sim.sites.prod.downloads.backups.length).toBeGreaterThanOrEqual(3);
    for (const id of sources) {
      const area = prod.layout.backupArea(id);
      expect(existsSync(area) ? readdirSync(area) : [], `backup area of course ${id}`).toEqual([]);
    }
  });
});
