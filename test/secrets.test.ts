// Secrets: the worker command, run as its own process at debug level
// through a whole session (with a failing course, so failures are logged
// too), writes no Moodle token in any line; nor does any event history.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { scrubSecrets, scrubText, createLogger } from '../activities/logger';
import { configSecrets, parseConfig } from '../workers/config';
import { startSession } from '../client/sessions';
import { archiverCli, startStack, until, writeConfigFile, type Stack } from './harness';
import { notificationsTo, startReceivers, type Receivers } from './receivers';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('masks a secret in every form a message may hold it: plain, URL-encoded, form-encoded, JSON- and HTML-escaped', () => {
    const password = 'p@ss w"rd&<x>/é';
    const forms = [
      password,
      encodeURIComponent(password),
      new URLSearchParams({ p: password }).toString().slice(2),
      JSON.stringify(password).slice(1, -1),
      'p@ss w&quot;rd&amp;&lt;x&gt;/é',
    ];
    for (const form of forms) expect(scrubText(`before ${form} after`, [password])).toBe('before [REDACTED] after');
    expect(configSecrets(parseConfig(stack.rawConfig, { env: stack.env }))).toEqual(expect.arrayContaining(Object.values(stack.env)));
  });

  it('the worker process writes no token during a whole session, failures included', { timeout: 180_000 }, async () => {
    const tokens = Object.values(stack.env);
    expect(tokens.every((t) => /^[0-9a-f]{32}$/.test(t))).toBe(true);
    const broken = stack.vintageCourseIds()[2];
    stack.sim.sites.prod.store.data.faults.push({ script: 'backup', courseId: broken, times: -1 });
    stack.sim.sites.prod.store.save();
    // And a target that echoes the token once, in its debug info: that course fails too, its failure logged.
    stack.sim.sites.archive.store.data.settings.debug = true;
    stack.sim.sites.archive.store.data.restFaults = [{ kind: 'echo-in-debuginfo', function: 'core_course_get_contents', times: 1 }];
    stack.sim.sites.archive.store.save();
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
    const input = stack.sessionInput({ deleteSource: true, failureHoldHours: 0 });
    try {
      await until(
        async () => output,
        (o) => o.includes('workers started'),
        90_000,
      );
      const result = await (await startSession(stack.client, stack.config, input)).result();
      expect(result.counts).toEqual({ succeeded: 3, failed: 2, skipped: 0, cancelled: 0 });
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
    expect(output).toContain("WHERE token = ? [array (0 => '[REDACTED]')]");
    for (const t of tokens) expect(output.includes(t), 'a token in the worker log').toBe(false);
    // One JSON stream: every line the process wrote is a JSON object, the SDK's own lines too.
    const lines = output.split('\n').filter(Boolean);
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line.slice(0, 200)).not.toThrow();
    // One audit line for each source deleted (the three courses that succeeded), naming the course, its site, its
    // archive and the backup's sha256; none for the courses that failed.
    const audits = lines
      .map((l) => JSON.parse(l) as { sdk?: { audit?: Record<string, string> } })
      .flatMap((l) => (l.sdk?.audit ? [l.sdk.audit] : []));
    expect(audits).toHaveLength(3);
    const archived = await stack.catalog.listSession(input.session);
    for (const a of audits) {
      const row = archived.find((r) => `prod course ${r.sourceCourseId}` === a.course)!;
      expect(row, a.course).toBeDefined();
      expect(a).toMatchObject({
        act: 'source-deleted',
        site: 'prod',
        deleted: `course ${row.sourceCourseId}`,
        shortname: row.shortname,
        session: input.session,
        archive: `archive course ${row.targetCourseId}`,
        mbzSha256: row.mbzSha256,
      });
      expect(row.sourceDeleted).toBe(true);
    }
  });
});

describe('a site that echoes its token back', () => {
  let stack: Stack;
  let receivers: Receivers;
  beforeAll(async () => {
    receivers = await startReceivers();
    stack = await startStack({
      courses: 4,
      notifications: notificationsTo(receivers),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receivers?.close();
  });

  it('follows no redirect, and no history, status, course show, report, webhook or mail holds a token', { timeout: 180_000 }, async () => {
    // The target's verification read: once an error whose debug info quotes the request, once a PHP error page
    // echoing the form, once a redirect whose address keeps it: three courses fail, their sources stay.
    stack.sim.sites.archive.store.data.restFaults = (['echo-in-debuginfo', 'echo-in-html', 'redirect'] as const).map((kind) => ({
      kind,
      function: 'core_course_get_contents',
      times: 1,
    }));
    stack.sim.sites.archive.store.data.settings.debug = true; // debug info in errors, as a site with debugging on
    stack.sim.sites.archive.store.save();
    const input = stack.sessionInput({ deleteSource: true, failureHoldHours: 0 });
    const result = await stack.runSession(input);
    expect(result.counts).toMatchObject({ succeeded: 1, failed: 3 });
    const courses = stack.vintageCourseIds();
    const surfaces: Record<string, string> = {};
    for (const id of [sessionWorkflowId(input.session), ...courses.map((c) => courseWorkflowId(input.session, c))])
      surfaces[`${id} history`] = JSON.stringify(await stack.client.workflow.getHandle(id).fetchHistory());
    surfaces.status = await archiverCli(stack, ['status', input.session]);
    for (const c of courses)
      surfaces[`course show ${c}`] = await archiverCli(stack, ['course', 'show', input.session, String(c), '--json']);
    const out = mkdtempSync(join(tmpdir(), 'report-'));
    await archiverCli(stack, ['report', input.session, '--out', out]);
    for (const f of readdirSync(out)) surfaces[`report ${f}`] = readFileSync(join(out, f), 'utf8');
    await until(
      async () => receivers.webhook.length,
      (n) => n >= 4,
      10_000,
    );
    surfaces.webhook = JSON.stringify(receivers.webhook);
    surfaces.mail = receivers.mail.join('\n');
    // What the operator needs is there: the redirect named with the field to fix, the page's text, masked.
    const all = Object.values(surfaces).join('\n');
    expect(all).toContain('redirect to elsewhere.example.edu: sites.archive.url');
    expect(all).toContain('not JSON: <pre>wstoken=[REDACTED]');
    expect(all).toContain("{external_tokens} WHERE token = ? [array (0 => '[REDACTED]')]");
    for (const token of Object.values(stack.env))
      for (const [where, text] of Object.entries(surfaces)) expect(text.includes(token), `a token in ${where}`).toBe(false);
  });
});
