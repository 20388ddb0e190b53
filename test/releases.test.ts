// Supported Moodle releases: the rule, and a session refused at its start
// when a site runs a release the tool does not support.
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseProblem, SUPPORTED_RANGE } from '../activities/moodle/releases';
import { startSession } from '../client/sessions';
import { startStack, type Stack } from './harness';

describe('supported releases', () => {
  it('are 4.1 to 5.0, read from the release site info prints', () => {
    expect(SUPPORTED_RANGE).toBe('4.1 to 5.0');
    for (const ok of ['4.1.0 (Build: 20221128)', '4.5.11+ (Build: 20260501)', '5.0 (Build: 20250414)'])
      expect(releaseProblem(ok)).toBeUndefined();
    expect(releaseProblem('4.0.12 (Build: 20231009)')).toBe('it runs Moodle 4.0.12 (Build: 20231009); this tool supports 4.1 to 5.0');
    expect(releaseProblem('5.1dev (Build: 20250901)')).toMatch(/this tool supports 4\.1 to 5\.0/);
    expect(releaseProblem(undefined)).toBe('its release is unknown (site info said "")');
  });
});

describe('a session whose source runs Moodle 3.11', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 3 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('stops at its start with the site and the supported range named, before any course is touched', async () => {
    const prod = stack.sim.sites.prod.store;
    prod.data.settings.release = '3.11.2 (Build: 20210712)';
    prod.save();
    const input = stack.sessionInput();
    const handle = await startSession(stack.client, stack.config, input);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as Error & { type?: string };
    expect(cause.type).toBe('Moodle:unsupported-release');
    expect(cause.message).toBe(
      'prod: core_webservice_get_site_info: it runs Moodle 3.11.2 (Build: 20210712); this tool supports 4.1 to 5.0 ' +
        '(fix: archive from and to Moodle 4.1 to 5.0 (upgrade the site first), or remove the site from the session)',
    );
    const children = stack.client.workflow.list({ query: `ArchiveSession = '${input.session}' AND WorkflowType = 'archiveCourse'` });
    const started: string[] = [];
    for await (const wf of children) started.push(wf.workflowId);
    expect(started).toEqual([]);
    expect(stack.vintageCourseIds()).toHaveLength(3);
  });

  it("records both sites' releases in progress when they are supported", async () => {
    const prod = stack.sim.sites.prod.store;
    prod.data.settings.release = '4.1.9 (Build: 20240212)';
    prod.save();
    const result = await stack.runSession(stack.sessionInput({ deleteSource: false }));
    expect(result.counts.succeeded).toBe(3);
    expect(result.sites).toEqual([
      { siteId: 'prod', release: '4.1.9 (Build: 20240212)', version: expect.any(String) },
      { siteId: 'archive', release: '4.5.11+ (Build: 20260501)', version: expect.any(String) },
    ]);
  });
});
