// Histories recorded from earlier code (scripts/record-histories.ts: a session across continue-as-new, a course
// with a retried activity, a course held then retried, a scheduled session, a plan, doctor, the category check,
// an expiry) replay against the code as it is now. A workflow change that would break a run already begun fails
// here: make it behind patched() (README, Upgrading), and record the new shape beside the old.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const DIR = join(import.meta.dirname, 'fixtures', 'histories');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
  .sort();

describe('recorded histories replay against the current workflows', () => {
  it('covers every workflow type', () => {
    const types = new Set(
      files.map((f) => {
        const first = (
          JSON.parse(readFileSync(join(DIR, f), 'utf8')) as {
            events: { workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }[];
          }
        ).events[0];
        return first.workflowExecutionStartedEventAttributes!.workflowType.name;
      }),
    );
    const index = readFileSync(join(import.meta.dirname, '..', 'workflows', 'index.ts'), 'utf8');
    const exported = [...index.matchAll(/export \{ (\w+) \}/g)].map((m) => m[1]);
    expect([...types].sort()).toEqual(exported.sort());
  });

  // Each under the workflow id it ran with: a scheduled session reads its name from it.
  const ids = JSON.parse(readFileSync(join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
  it.each(files)('%s', async (file) => {
    const history = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as unknown;
    expect(ids[file], `${file} in workflow-ids.json`).toBeDefined();
    await Worker.runReplayHistory({ workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') } }, history, ids[file]);
  });
});
