// The archiver config that points at running simulated sites: each site's
// URL, its stand-in admin CLI (simulator/php.ts in place of php) and a
// staging folder. Used by the demo and the tests.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningSimulator } from './server';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The stand-in for `php`: the same command line shape as on a real host. */
export const simulatedPhp = [join(root, 'node_modules', '.bin', 'tsx'), join(root, 'simulator', 'php.ts')];

export function simulatedSitesConfig(sim: RunningSimulator, opts: { dataDir: string; temporalAddress: string; catalogFile: string; mainQueue?: string }) {
  const sites: Record<string, unknown> = {};
  const env: Record<string, string> = {};
  for (const [siteId, site] of Object.entries(sim.sites)) {
    const staging = join(opts.dataDir, 'staging', siteId);
    mkdirSync(staging, { recursive: true });
    sites[siteId] = { url: site.url, staging, cli: { command: simulatedPhp, moodleDir: site.moodleDir, timeoutSeconds: 600 }, maxConcurrentJobs: 4 };
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
