// An upgrade in the middle of a session: the worker of one build stops (SIGTERM, as systemd stops it), the worker
// of the next build starts, and the session completes, its history showing both builds.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionStatus, startSession } from '../client/sessions';
import { sessionWorkflowId } from '../contract';
import { workerProcess } from '../rig/rig';
import { buildIdOf } from '../workers/run';
import { startStack, until, writeConfigFile, type Stack } from './harness';

const COURSES = 6;

describe('a worker upgraded during a session', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: COURSES, workers: false, latency: { fixedSeconds: 0.2, secondsPerMB: 0, secondsPerActivity: 0 } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('hands the running session to the next build, which completes it', { timeout: 180_000 }, async () => {
    const config = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
    // The next build: other workflow code (here one comment more, at the top: the bundle ends with its inline source
    // map, which a line after it would corrupt), so another build id.
    const before = inject('workflowBundlePath');
    const next = join(stack.dir, 'next-build.js');
    writeFileSync(next, `// the next build\n${readFileSync(before, 'utf8')}`);
    const [oldBuild, newBuild] = [before, next].map((f) => buildIdOf(readFileSync(f, 'utf8')));
    expect(oldBuild).not.toBe(newBuild);

    const first = workerProcess(config, stack.env, undefined, before);
    await first.started;
    const input = stack.sessionInput({ deleteSource: true, concurrency: 2 });
    const session = await startSession(stack.client, stack.config, input);
    await until(
      () => sessionStatus(stack.client, input.session),
      (s) => s.done >= 2,
      120_000,
    );
    await first.stop();
    expect(first.output()).toContain(oldBuild);

    const second = workerProcess(config, stack.env, undefined, next);
    try {
      await second.started;
      const result = await session.result();
      expect(result.counts).toEqual({ succeeded: COURSES, failed: 0, skipped: 0, cancelled: 0 });
    } finally {
      await second.stop();
    }
    expect(stack.vintageCourseIds()).toEqual([]);
    // Its history (every run) was written by both builds: the first before the upgrade, the second after.
    let histories = '';
    for await (const w of stack.client.workflow.list({ query: `WorkflowId="${sessionWorkflowId(input.session)}"` }))
      histories += JSON.stringify(await stack.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory());
    expect(histories).toContain(oldBuild);
    expect(histories).toContain(newBuild);
  });
});
