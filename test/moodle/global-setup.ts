// The real-Moodle suite's set-up: two real Moodle 4.5 sites (prod, archive)
// stood up by ../shared/moodle/stand-up.sh (a machine-local snapshot makes
// every start after the first fast), and a Temporal dev server.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../client/dev-server';
import { writeWorkflowBundle } from '../../workers/run';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    sitesJson: string;
    workflowBundlePath: string;
  }
}

/** stand-up.sh: $MOODLE_STANDUP, else shared/moodle beside the repository (as CI lays it out). */
const STANDUP = process.env.MOODLE_STANDUP ?? resolve(import.meta.dirname, '../../../shared/moodle/stand-up.sh');

export default async function setup(project: TestProject) {
  if (process.getuid?.() !== 0)
    throw new Error('the real-Moodle suite stands up Moodle sites as root (stand-up.sh needs runuser): run it as root');
  const dir = mkdtempSync(join(tmpdir(), 'archiver-moodle-'));
  chmodSync(dir, 0o755); // the sites' web server and CLI run as www-data, below this folder
  const started = Date.now();
  execFileSync('bash', [STANDUP, 'start', join(dir, 'sites'), '--sites', 'prod,archive'], { stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`[test:moodle] two real Moodle sites up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const bundlePath = join(dir, 'workflows-bundle.js');
  const [server] = await Promise.all([startDevServer({ headless: true }), writeWorkflowBundle(bundlePath)]);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('sitesJson', join(dir, 'sites', 'sites.json'));
  return async () => {
    await server.stop();
    execFileSync('bash', [STANDUP, 'stop', join(dir, 'sites'), '--purge'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
}
