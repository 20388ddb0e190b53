// The checks an administrator runs before a first session (`doctor`), one
// site at a time, on that site's own host queue: the web services answer
// the token, its service holds every function the archiver calls, the
// release is supported, the admin scripts run with the configured command
// line, and the staging folder is writable with room for the largest course.
// Each failed check says what to change, and where in Moodle.
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSharedDir } from './shared-dir';
import { MoodleError } from './moodle/errors';
import { REQUIRED_FUNCTIONS } from './moodle/client';
import { releaseProblem, SUPPORTED_RANGE } from './moodle/releases';
import type { Sites } from './sites';
import { tokenEnvName } from '../contract';

export interface SetupCheck {
  check: 'web services' | 'functions' | 'release' | 'file transfer' | 'admin CLI' | 'staging' | 'worker';
  ok: boolean;
  detail: string;
  /** What to change, and where, when the check failed. */
  fix?: string;
}

const GB = 1024 ** 3;
const TOKENS_PAGE = 'Site administration > Server > Web services > Manage tokens';

function webServiceFix(e: unknown, siteId: string): string {
  const kind = e instanceof MoodleError ? e.kind : 'transient';
  switch (kind) {
    case 'invalid-token':
      return `create a token for the archiver's user in ${TOKENS_PAGE}, and give it to the worker as ${tokenEnvName(siteId)}`;
    case 'web-services-disabled':
      return 'turn on Site administration > General > Advanced features > Enable web services, then enable REST in Site administration > Server > Web services > Manage protocols';
    case 'access-denied':
      return `add core_webservice_get_site_info to the token's service (Site administration > Server > Web services > External services > Functions)`;
    default:
      return `check that sites.${siteId}.url is the site's wwwroot and that this host reaches it`;
  }
}

export function doctorActivities(sites: Sites) {
  return {
    /** For each named category, why it cannot be used: it does not exist on its site. Run on the main queue, whose
     * worker holds the tokens (the operator's CLI holds none). */
    async categoryProblems(checks: { field: string; siteId: string; categoryId: number }[]): Promise<string[]> {
      const problems: string[] = [];
      for (const c of checks) {
        const found = await sites.moodle(c.siteId).categories({ id: c.categoryId }, false);
        if (!found.length)
          problems.push(`${c.field}: category ${c.categoryId} does not exist on ${c.siteId}; give the id of an existing category`);
      }
      return problems;
    },
    /** Every check of one site, run on that site's host. */
    async checkSiteSetup({ siteId, largestCourseBytes }: { siteId: string; largestCourseBytes: number }): Promise<SetupCheck[]> {
      const storage = sites.storage(siteId);
      // A cold storage's host needs room to stage a backup, then to keep its package.
      if (storage)
        return [
          stagingCheck(storage.staging, largestCourseBytes, `storages.${siteId}.staging`),
          stagingCheck(storage.path, largestCourseBytes / 2, `storages.${siteId}.path`),
        ];
      const checks: SetupCheck[] = [];
      try {
        const info = await sites.moodle(siteId).siteInfo();
        checks.push({ check: 'web services', ok: true, detail: `the token is accepted by "${info.sitename}" (${info.siteurl})` });
        const have = new Set(info.functions.map((f) => f.name));
        const missing = REQUIRED_FUNCTIONS.filter((f) => !have.has(f));
        checks.push(
          missing.length
            ? {
                check: 'functions',
                ok: false,
                detail: `the token's service lacks ${missing.join(', ')}`,
                fix: `add them in Site administration > Server > Web services > External services > (the token's service) > Functions`,
              }
            : {
                check: 'functions',
                ok: true,
                detail: `all ${REQUIRED_FUNCTIONS.length} functions the archiver calls are in the token's service`,
              },
        );
        const problem = releaseProblem(info.release);
        checks.push(
          problem
            ? {
                check: 'release',
                ok: false,
                detail: problem,
                fix: `archive from and to Moodle ${SUPPORTED_RANGE}: upgrade this site first`,
              }
            : { check: 'release', ok: true, detail: `Moodle ${info.release}, within ${SUPPORTED_RANGE}` },
        );
        // Only a moodle-ws route from this site pulls files through its web services.
        const pulls = sites.config.transports.filter((t) => t.from === siteId && t.driver === 'moodle-ws').map((t) => t.to);
        if (!pulls.length) {
          checks.push({
            check: 'file transfer',
            ok: true,
            detail: `no moodle-ws route starts here: backups go by shared path (service download: ${info.downloadfiles ? 'on' : 'off'})`,
          });
        } else if (!have.has('core_files_get_files') || !info.downloadfiles) {
          checks.push({
            check: 'file transfer',
            ok: false,
            detail: `the moodle-ws route(s) to ${pulls.join(', ')} need core_files_get_files and file downloads in the token's service`,
            fix: 'add core_files_get_files to the service and tick "Can download files" in Site administration > Server > Web services > External services > (the service) > Edit',
          });
        } else {
          checks.push({
            check: 'file transfer',
            ok: true,
            detail: `the token's service lists backup areas and serves downloads, for the moodle-ws route(s) to ${pulls.join(', ')}`,
          });
        }
      } catch (e) {
        checks.push({ check: 'web services', ok: false, detail: (e as Error).message, fix: webServiceFix(e, siteId) });
      }
      const cli = await sites.host(siteId).probe();
      checks.push(
        cli.ok
          ? { check: 'admin CLI', ok: true, detail: cli.detail }
          : {
              check: 'admin CLI',
              ok: false,
              detail: cli.detail,
              fix: `set sites.${siteId}.cli.command to the php command line of this host, run as the web server's user (e.g. ["sudo", "-u", "www-data", "php"]), and sites.${siteId}.cli.moodleDir to the folder that holds admin/cli/backup.php`,
            },
      );
      const staging = stagingCheck(sites.staging(siteId), largestCourseBytes, `sites.${siteId}.staging`);
      checks.push(staging.ok && cli.ok ? await cliWriteCheck(sites, siteId, staging) : staging);
      return checks;
    },
  };
}

/**
 * backup.php writes into a session folder the worker makes, as the CLI user: make one as a session does and
 * have the CLI user write in it. The worker's own write (stagingCheck) proves nothing for that user.
 */
async function cliWriteCheck(sites: Sites, siteId: string, staging: SetupCheck): Promise<SetupCheck> {
  const root = sites.staging(siteId);
  const dir = join(root, `.archiver-doctor-${process.pid}`);
  try {
    makeSharedDir(dir);
    const probe = await sites.host(siteId).canWrite(dir);
    if (probe.ok) return { ...staging, detail: `${staging.detail}; the CLI user writes in the folders a session makes there` };
    return {
      check: 'staging',
      ok: false,
      detail: probe.detail,
      fix: `give ${root} the CLI user's group with group write and setgid (e.g. chgrp www-data ${root} && chmod 2775 ${root}): the folders a session makes there take its group and mode`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writable, and room for the largest course twice: backup.php writes the file inside moodledata, then to the destination. */
function stagingCheck(staging: string, largestCourseBytes: number, field: string): SetupCheck {
  try {
    mkdirSync(staging, { recursive: true });
    const probe = join(staging, `.archiver-doctor-${process.pid}`);
    writeFileSync(probe, 'probe');
    rmSync(probe);
  } catch (e) {
    return {
      check: 'staging',
      ok: false,
      detail: `${staging} is not writable: ${(e as Error).message}`,
      fix: `make ${staging} writable by the worker and the Moodle CLI user, or point ${field} at a folder that is`,
    };
  }
  const fs = statfsSync(staging);
  const free = fs.bavail * fs.bsize;
  const needed = 2 * largestCourseBytes;
  const gb = (n: number) => `${(n / GB).toFixed(1)} GB`;
  if (free < needed) {
    return {
      check: 'staging',
      ok: false,
      detail: `${staging} has ${gb(free)} free; the largest course needs ${gb(needed)} (twice its ${gb(largestCourseBytes)})`,
      fix: `free ${gb(needed - free)} on ${staging}, or point ${field} at a larger disk`,
    };
  }
  return {
    check: 'staging',
    ok: true,
    detail: `${staging} is writable, ${gb(free)} free${largestCourseBytes ? `, twice the largest course needs ${gb(needed)}` : ''}`,
  };
}
