// Secrets: the worker command, run as its own process at debug level
// through a whole session (with a failing course, so failures are logged
// too), writes no Moodle token in any line; nor does any event history.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { scrubSecrets, createLogger } from '../activities/logger';
import { startSession } from '../client/sessions';
import { startStack, until, writeConfigFile, type Stack } from './harness';
import { Writable } from 'node:stream';
import { courseWorkflowId, sessionWorkflowId } from '../contract';

describe('tokens in logs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 5, workers: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('masks a token wherever it stands in a log line, nested objects and errors included', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const secret = 'f00dfeed0123456789abcdef01234567';
    const log = createLogger('info', sink, [secret]);
    log.info({ request: { body: `wsfunction=x&wstoken=${secret}` }, nested: [{ deep: `token ${secret} here` }] }, `calling with ${secret}`);
    log.error(new Error(`failed for ${secret}`));
    expect(lines).toHaveLength(2);
    expect(lines.join('')).not.toContain(secret);
    expect(lines.join('')).toContain('[REDACTED]');
    expect(scrubSecrets(`?token=${secret}`)).toBe('?token=[REDACTED]');
  });

  it('the worker process writes no token during a whole session, failures included', { timeout: 180_000 }, async () => {
    const tokens = Object.values(stack.env);
    expect(tokens.every((t) => /^[0-9a-f]{32}$/.test(t))).toBe(true);
    const broken = stack.vintageCourseIds()[2];
    stack.sim.sites.prod.store.data.faults.push({ script: 'backup', courseId: broken, times: -1 });
    stack.sim.sites.prod.store.save();
    const file = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
    const worker = spawn(
      'node_modules/.bin/tsx',
      ['workers/main.ts', '--config', file, '--workflow-bundle', inject('workflowBundlePath')],
      {
        env: { ...process.env, ...stack.env, LOG_LEVEL: 'debug', TEMPORAL_ADDRESS: inject('temporalAddress') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    worker.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    worker.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
    try {
      await until(
        async () => output,
        (o) => o.includes('workers started'),
        90_000,
      );
      const input = stack.sessionInput({ deleteSource: true, failureHoldHours: 0 });
      const result = await (await startSession(stack.client, stack.config, input)).result();
      expect(result.counts).toEqual({ succeeded: 4, failed: 1, skipped: 0, cancelled: 0 });
      // The histories too: the session's and every course's.
      for (const id of [
        sessionWorkflowId(input.session),
        ...stack.sim.sites.prod.store.data.courses.map((c) => courseWorkflowId(input.session, c.id)),
      ]) {
        const history = await stack.client.workflow
          .getHandle(id)
          .fetchHistory()
          .catch(() => undefined);
        const bytes = history ? JSON.stringify(history) : '';
        for (const t of tokens) expect(bytes.includes(t), `${id} history`).toBe(false);
      }
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
    // The log holds what an operator needs: the start, the SDK's debug lines, and the failure with its reason.
    expect(output).toContain('workers started');
    expect(output).toMatch(/"level":"debug"/);
    expect(output).toContain('Error reading from database');
    for (const t of tokens) expect(output.includes(t), 'a token in the worker log').toBe(false);
  });
});
