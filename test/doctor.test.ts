// `doctor` against the simulated sites: every check passes on a good
// setup, and each check, made to fail in turn, fails alone and says what to
// change. The host checks run on each site's own queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorPassed, runDoctor } from '../client/doctor';
import { REQUIRED_FUNCTIONS } from '../activities/moodle/client';
import type { SetupCheck } from '../activities/doctor';
import { archiverCli, startStack, type Stack } from './harness';

describe('doctor', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 4 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const prodChecks = async () => {
    const report = await runDoctor(stack.client, stack.config, { siteIds: ['prod'], workerWaitSeconds: 5 });
    return report.sites[0].checks;
  };
  const failing = (checks: SetupCheck[]) => checks.filter((c) => !c.ok);

  it('passes every check of a good setup, from the CLI, sizing staging by the largest course of the category', async () => {
    const out = await archiverCli(stack, ['doctor', '--source-site', 'prod', '--category', String(stack.vintageCategoryId)]);
    expect(out).toMatch(/^Largest course of the category: \d+ \(\d+ MB declared\)/);
    for (const check of ['web services', 'functions', 'release', 'file transfer', 'admin CLI', 'staging']) {
      expect(out).toContain(`ok   ${check}:`);
    }
    expect(out).toMatch(/Site prod[\s\S]*Site archive/);
    expect(out.trim().endsWith('Every check passed.')).toBe(true);
  });

  it('fails each check alone when it is broken, and says what to change and where', async () => {
    const prod = stack.sim.sites.prod.store;
    const site = stack.config.sites.prod;
    const token = stack.env.MOODLE_TOKEN_PROD;
    // Each case breaks one thing, expects one failing check, and mends it.
    const cases: [string, () => void, () => void, SetupCheck['check'], RegExp, RegExp][] = [
      [
        'unknown token',
        () => {
          delete prod.data.settings.tokens[token];
        },
        () => {
          prod.data.settings.tokens[token] = { functions: null };
        },
        'web services',
        /invalidtoken/,
        /Site administration > Server > Web services > Manage tokens/,
      ],
      [
        'web services off',
        () => {
          prod.data.restFaults = [{ kind: 'webservices-disabled', times: -1 }];
        },
        () => {
          prod.data.restFaults = [];
        },
        'web services',
        /HTTP 403/,
        /Advanced features > Enable web services/,
      ],
      [
        'a function missing from the service',
        () => {
          prod.data.settings.tokens[token] = { functions: REQUIRED_FUNCTIONS.filter((f) => f !== 'core_course_get_contents') };
        },
        () => {
          prod.data.settings.tokens[token] = { functions: null };
        },
        'functions',
        /lacks core_course_get_contents/,
        /External services > \(the token's service\) > Functions/,
      ],
      [
        'Moodle 3.11',
        () => {
          prod.data.settings.release = '3.11.2 (Build: 20210712)';
        },
        () => {
          prod.data.settings.release = '4.5.11+ (Build: 20260501)';
        },
        'release',
        /runs Moodle 3\.11\.2/,
        /upgrade this site first/,
      ],
      [
        'a wrong php command',
        () => {
          site.cli.command = ['/usr/bin/php-nonexistent'];
        },
        () => {
          site.cli.command = stack.sim.phpCommand;
        },
        'admin CLI',
        /exit -1: .*command not found/,
        /sites\.prod\.cli\.command/,
      ],
      [
        'a wrong Moodle directory',
        () => {
          site.cli.moodleDir = '/var/www/nomoodle';
        },
        () => {
          site.cli.moodleDir = stack.sim.sites.prod.moodleDir;
        },
        'admin CLI',
        /Could not open input file/,
        /cli\.moodleDir to the folder that holds admin\/cli\/backup\.php/,
      ],
      [
        'a moodle-ws route from a site whose service cannot list backup areas',
        () => {
          stack.config.transports.push({ from: 'prod', to: 'archive', driver: 'moodle-ws', mode: 'copy' });
          prod.data.settings.tokens[token] = { functions: [...REQUIRED_FUNCTIONS] };
        },
        () => {
          stack.config.transports.pop();
          prod.data.settings.tokens[token] = { functions: null };
        },
        'file transfer',
        /moodle-ws route\(s\) to archive need core_files_get_files/,
        /add core_files_get_files to the service and tick "Can download files"/,
      ],
      [
        'an unwritable staging folder',
        () => {
          site.staging = '/dev/null/staging';
        },
        () => {
          site.staging = stack.config.sites.archive.staging.replace(/archive$/, 'prod');
        },
        'staging',
        /is not writable/,
        /point sites\.prod\.staging at a folder/,
      ],
    ];
    for (const [name, breakIt, mend, check, detail, fix] of cases) {
      breakIt();
      prod.save();
      const checks = await prodChecks();
      mend();
      prod.save();
      const failed = failing(checks);
      expect([name, failed.map((c) => c.check)]).toEqual([name, [check]]);
      expect(failed[0].detail, name).toMatch(detail);
      expect(failed[0].fix, name).toMatch(fix);
    }
    expect(failing(await prodChecks())).toEqual([]);
  });

  it('finds too little staging space for the largest course, which is written twice', async () => {
    const prod = stack.sim.sites.prod.store;
    const course = prod.coursesUnder(stack.vintageCategoryId)[0];
    const file = course.sections.flatMap((s) => s.modules.flatMap((m) => m.files))[0];
    file.filesize = 10 ** 16; // 10 PB declared: no disk here has twice that
    prod.save();
    const report = await runDoctor(stack.client, stack.config, {
      siteIds: ['prod'],
      selection: { siteId: 'prod', categoryId: stack.vintageCategoryId },
      workerWaitSeconds: 5,
    });
    expect(report.largestCourse?.courseId).toBe(course.id);
    const [staging] = failing(report.sites[0].checks);
    expect(staging).toMatchObject({ check: 'staging', ok: false });
    expect(staging.detail).toMatch(/the largest course needs \d+\.\d GB \(twice its/);
    expect(staging.fix).toMatch(/or point sites\.prod\.staging at a larger disk/);
  });

  it('reports a site whose host runs no worker, instead of waiting for it', async () => {
    const report = await runDoctor(stack.client, stack.config, { siteIds: ['prod', 'elsewhere'], workerWaitSeconds: 2 });
    expect(doctorPassed(report)).toBe(false);
    expect(report.sites.find((s) => s.siteId === 'elsewhere')!.checks).toEqual([
      {
        check: 'worker',
        ok: false,
        detail: 'no worker took the check from site/elsewhere within 2 s',
        fix: 'start a worker on that Moodle host for its queue: npm run worker -- --queues site/elsewhere',
      },
    ]);
  });

  it('says within its wait that no worker polls the main queue, naming it, instead of waiting for one', async () => {
    const lonely = { ...stack.rawConfig, mainQueue: `nobody-${Date.now()}` };
    const t0 = Date.now();
    const failure = await archiverCli({ ...stack, rawConfig: lonely }, ['doctor', '--wait', '2']).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr?.trim()).toBe(
      `No worker polls the main queue "${lonely.mainQueue}" (waited 2 s): start one (npm run worker -- --queues ${lonely.mainQueue}), then run doctor again`,
    );
    // Bounded: the wait and a call or two, not the workflow's timeout.
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
