// The archiver config that points at running simulated sites: each site's
// URL, its stand-in admin CLI (simulator/php.ts in place of php) and a
// staging folder. Used by the demo and the tests.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSimulator } from './server';

export function simulatedSitesConfig(sim: RunningSimulator, opts: { dataDir: string; temporalAddress: string; catalogFile: string; mainQueue?: string }) {
  const sites: Record<string, unknown> = {};
  const env: Record<string, string> = {};
  for (const [siteId, site] of Object.entries(sim.sites)) {
    const staging = join(opts.dataDir, 'staging', siteId);
    mkdirSync(staging, { recursive: true });
    sites[siteId] = { url: site.url, staging, cli: { command: sim.phpCommand, moodleDir: site.moodleDir, timeoutSeconds: 600 }, maxConcurrentJobs: 4 };
    env[`MOODLE_TOKEN_${siteId.toUpperCase()}`] = Object.keys(site.store.data.settings.tokens)[0];
  }
  return {
    config: {
      temporal: { address: opts.temporalAddress, namespace: 'default' },
      mainQueue: opts.mainQueue ?? 'archive-main',
      catalog: { url: `file:${opts.catalogFile}` },
      sites,
      logLevel: 'info',
    },
    env,
  };
}
