// Once per test run: a real Temporal dev server (in memory, free port, our
// search attributes registered) and the workflow bundle, shared by all suites.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../client/dev-server';
import { writeWorkflowBundle } from '../workers/run';
import { TEST_NAMESPACES } from './namespace';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'archiver-test-'));
  const bundlePath = join(dir, 'workflows-bundle.js');
  const [server] = await Promise.all([
    // A namespace per test worker: suites run four at a time, and each stack's site queues (site/prod,
    // site/archive) must reach only its own workers.
    startDevServer({ headless: true, namespaces: TEST_NAMESPACES }),
    writeWorkflowBundle(bundlePath),
  ]);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
