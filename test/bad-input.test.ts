// Bad configuration and bad session requests are refused before any
// workflow starts, with a message that names the field.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, ConfigError, settingsNotIn } from '../workers/config';
import { validateScheduledSessionInput, validateSessionInput, SessionInputError } from '../client/session-input';
import { startWorkers } from '../workers/run';
import { cliFailure, runCli, startStack, writeConfigFile, type Stack } from './harness';
import { sessionWorkflowId } from '../contract';
import { scheduleSpec } from '../client/schedules';

describe('bad configuration', () => {
  let stack: Stack;
  // No workers: every case is refused before anything would reach one.
  beforeAll(async () => {
    stack = await startStack({ courses: 2, workers: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const sites = () => structuredClone(stack.rawConfig.sites) as Record<string, Record<string, unknown>>;

  it('a missing token names the site and the environment variable to set', () => {
    const env = { ...stack.env };
    delete env.MOODLE_TOKEN_ARCHIVE;
    expect(() => parseConfig(stack.rawConfig, { env })).toThrow(ConfigError);
    expect(() => parseConfig(stack.rawConfig, { env })).toThrow(/sites\.archive\.token: missing; set MOODLE_TOKEN_ARCHIVE/);
  });

  it('the example config holds every setting the code reads and only those, and the env template every variable it names', () => {
    const example = JSON.parse(readFileSync(new URL('../archiver.config.example.json', import.meta.url), 'utf8')) as unknown;
    // Its secrets' variables, as deploy/env.example lists them for the workers' environment.
    const template = readFileSync(new URL('../deploy/env.example', import.meta.url), 'utf8');
    const listed = [...template.matchAll(/^#?([A-Z_]+)=/gm)].map((m) => m[1]);
    const env = Object.fromEntries(listed.map((name) => [name, 'a'.repeat(32)]));
    for (const name of ['MOODLE_TOKEN_PROD', 'ARCHIVER_WEBHOOK_TOKEN', 'SMTP_USER', 'SMTP_PASSWORD']) expect(listed).toContain(name);
    // The archive site's token file (/etc/...) is not on this machine: its variable stands in for it.
    const config = parseConfig(example, {
      env: { ...env, MOODLE_TOKEN_ARCHIVE: 'b'.repeat(32), TEMPORAL_API_KEY: '', TEMPORAL_CONFIG_FILE: '', TEMPORAL_PROFILE: '' },
    });
    expect(Object.keys(config.sites)).toEqual(['prod', 'archive']);
    // Each setting is there but one, the alternative to what the example says instead: a profile of temporal.toml
    // in place of the address (which needs a temporal.toml to name).
    expect(settingsNotIn(example)).toEqual(['temporal.profile']);
  });

  it('a bad URL names the field and says what is expected', () => {
    const s = sites();
    s.prod.url = 'htp//moodle';
    expect(() => parseConfig({ ...stack.rawConfig, sites: s }, { env: stack.env })).toThrow(/sites\.prod\.url: must be the site's wwwroot/);
  });

  it('one Moodle under two site ids is refused, however its URL is written', () => {
    const url = new URL(String(sites().prod.url));
    for (const alias of [
      url.href,
      `${url.href}/`,
      `${url.protocol === 'http:' ? 'https:' : 'http:'}//${url.host.toUpperCase()}${url.pathname}index.php`,
    ]) {
      const s = sites();
      s.again = { ...s.prod, url: alias };
      expect(() => parseConfig({ ...stack.rawConfig, sites: s }, { env: { ...stack.env, MOODLE_TOKEN_AGAIN: 'abc' } }), alias).toThrow(
        /sites\.again\.url: the same Moodle as sites\.prod .*one Moodle is one site: remove one of them/,
      );
    }
  });

  it('a missing admin-CLI setting names the field and gives an example', () => {
    const s = sites();
    delete s.archive.cli;
    expect(() => parseConfig({ ...stack.rawConfig, sites: s }, { env: stack.env })).toThrow(
      /sites\.archive\.cli: must describe how to run Moodle's admin CLI/,
    );
  });

  it('transports, storages and retention rules name the field and the fix', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [
        { transports: [{ from: 'prod', to: 'nowhere', driver: 'moodle-ws' }] },
        /transports\.0\.to: unknown target "nowhere"; name a site of "sites" or a storage of "storages"/,
      ],
      [
        { transports: [{ from: 'prod', to: 'archive', driver: 'ftp' }] },
        /transports\.0\.driver: "shared-path" \(both hosts mount the staging folders\) or "moodle-ws"/,
      ],
      [
        { transports: [{ from: 'prod', to: 'archive', driver: 'moodle-ws', mode: 'move' }] },
        /transports\.0: "sourceMount" and "mode" are for the shared-path driver/,
      ],
      [
        { transports: [{ from: 'prod', to: 'archive', driver: 'shared-path', maxMBps: 0 }] },
        /transports\.0\.maxMBps: must be a positive number of MB per second/,
      ],
      [
        { storages: { archive: { path: '/srv/a', staging: '/srv/a/in' } } },
        /storages\.archive: a site has the same id; give the storage another name/,
      ],
      [{ storages: { cold: { staging: '/srv/a/in' } } }, /storages\.cold\.path: must be the folder that holds the sealed packages/],
      [{ retention: [{ categoryIdnumber: '2024-2025' }] }, /retention\.0\.keepYears: say how many years archives are kept/],
      [
        { retention: [{ categoryId: 3, categoryIdnumber: '20??', keepYears: 5 }] },
        /retention\.0: give categoryId or categoryIdnumber, not both/,
      ],
    ];
    for (const [patch, message] of bad)
      expect(() => parseConfig({ ...stack.rawConfig, ...patch }, { env: stack.env }), JSON.stringify(patch)).toThrow(message);
    // A cold storage takes no target category; a Moodle target needs one.
    const config = parseConfig({ ...stack.rawConfig, storages: { cold: { path: '/srv/a', staging: '/srv/a/in' } } }, { env: stack.env });
    expect(() => validateSessionInput({ ...stack.sessionInput(), targetSiteId: 'cold' }, config)).toThrow(
      /targetCategoryId: cold is a cold storage, which has no categories; leave it out/,
    );
    expect(() => validateSessionInput({ ...stack.sessionInput(), targetCategoryId: undefined }, config)).toThrow(
      /targetCategoryId: missing; name the category of archive/,
    );
  });

  it('an unknown site id in a session names the field and the known sites', () => {
    const config = parseConfig(stack.rawConfig, { env: stack.env });
    const bad = { ...stack.sessionInput(), targetSiteId: 'archvie' };
    expect(() => validateSessionInput(bad, config)).toThrow(SessionInputError);
    expect(() => validateSessionInput(bad, config)).toThrow(
      /targetSiteId: unknown site or storage "archvie"; the config has: prod, archive/,
    );
    expect(() => validateSessionInput({ ...stack.sessionInput(), concurrency: 0 }, config)).toThrow(/concurrency: must be at least 1/);
  });

  it('bad windows, clocks and prediction settings name the field and the fix', () => {
    const config = parseConfig(stack.rawConfig, { env: stack.env });
    const refuse = (extra: Record<string, unknown>, expected: RegExp) =>
      expect(() => validateSessionInput({ ...stack.sessionInput(), ...extra }, config)).toThrow(expected);
    const paris = (windows: unknown[]) => ({ windows: { timezone: 'Europe/Paris', windows } });
    refuse(paris([{ days: 'mon-fri', from: '7pm', to: '07:00' }]), /windows\.windows\[0\]\.from: "7pm" is not a time; use 24-hour "HH:MM"/);
    refuse(
      paris([
        { days: 'mon', from: '19:00', to: '23:00' },
        { days: 'mon-tue', from: '22:00', to: '06:00' },
      ]),
      /windows\.windows\[1\]: overlaps windows\[0\] on mon/,
    );
    refuse(paris([]), /windows\.windows: list at least one window/);
    refuse(paris([{ days: 'mon', from: '19:00' }]), /windows\.windows\.0\.to: give the closing time/);
    refuse({ clock: { speed: 60 } }, /clock: a rehearsal clock only makes sense with windows/);
    refuse(
      { ...paris([{ days: 'daily', from: '19:00', to: '07:00' }]), clock: { speed: 0.5 } },
      /clock\.speed: must be 1 \(real time\) or more/,
    );
    refuse({ prediction: { safetyMargin: -1 } }, /prediction\.safetyMargin: must be 0 or more/);
    refuse(
      { prediction: { phaseCosts: { backup: { secondsPerMB: -2 } } } },
      /prediction\.phaseCosts\.backup\.secondsPerMB: must be 0 or more seconds per MB/,
    );
    refuse(
      { prediction: { phaseCosts: { backpu: { secondsPerMB: 1 } } } },
      /prediction\.phaseCosts: "backpu" is not a phase; the phases are prepare, backup/,
    );
  });

  it('the CLI refuses each before starting anything: exit 2, the field named, no workflow', async () => {
    const cases: [string, Record<string, unknown>, string[], RegExp][] = [
      ['bad-url', { ...stack.rawConfig, sites: { ...sites(), prod: { ...sites().prod, url: 'not a url' } } }, [], /sites\.prod\.url/],
      ['unknown-site', stack.rawConfig, ['--source-site', 'nowhere'], /sourceSiteId: unknown site "nowhere"/],
      ['bad-category', stack.rawConfig, ['--category', '-4'], /sourceCategoryId: must be the id of the source category/],
      ['bad-window-day', stack.rawConfig, ['--window', 'mon-fry 19:00-07:00'], /windows\.windows\[0\]\.days: "fry" is not a day/],
      ['bad-window-form', stack.rawConfig, ['--window', 'weeknights'], /--window: "weeknights" is not a window; write days then hours/],
      [
        'bad-timezone',
        stack.rawConfig,
        ['--window', 'sat-sun 00:00-24:00', '--timezone', 'Paris'],
        /windows\.timezone: "Paris" is not a known time zone/,
      ],
      [
        'above-max-concurrency',
        stack.rawConfig,
        ['--concurrency', '8', '--max-concurrency', '4'],
        /concurrency: 8 is above maxConcurrency \(4\)/,
      ],
    ];
    for (const [name, raw, extra, expected] of cases) {
      const file = writeConfigFile(stack, raw, `${name}.json`);
      const session = `bad-${name}-${Date.now()}`;
      const args = [
        '--config',
        file,
        'start',
        '--session',
        session,
        '--vintage',
        '2024-2025',
        '--source-site',
        'prod',
        '--category',
        String(stack.vintageCategoryId),
        '--target-site',
        'archive',
        '--target-category',
        String(stack.archivesCategoryId),
        ...extra,
      ];
      const err = await cliFailure(runCli(args, stack.env));
      expect(err, name).not.toBeNull();
      expect(err!.code).toBe(2);
      expect(err!.stderr).toMatch(expected);
      const started = stack.client.workflow.list({ query: `WorkflowId = '${sessionWorkflowId(session)}'` });
      const found: string[] = [];
      for await (const wf of started) found.push(wf.workflowId);
      expect(found).toEqual([]);
    }
  });

  it("sessions list with a filter the server refuses says what is wrong with it: exit 2, the server's reason", async () => {
    const file = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
    const err = await cliFailure(runCli(['--config', file, 'sessions', 'list', '--query', 'ArchiveVintage = '], stack.env));
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/^--query: the server refused "ArchiveVintage = ": .+; write a visibility filter such as/);
  });

  it('a read command on a catalog it cannot read ends with exit 3 (not 1, a broken ledger) and creates nothing', async () => {
    const where = join(stack.dir, 'no-such-folder', 'catalog.sqlite');
    const file = writeConfigFile(stack, { ...stack.rawConfig, catalog: { url: `file:${where}` } }, 'no-catalog.json');
    for (const command of [
      ['catalog', 'find', 'HIST'],
      ['catalog', 'verify'],
      ['report', 'some-session'],
    ]) {
      const err = await cliFailure(runCli(['--config', file, ...command], stack.env));
      expect(err?.code, command.join(' ')).toBe(3);
      expect(err?.stderr).toMatch(/^catalog\.url \(file:.*\): there is no catalog there; the main worker creates it when it starts/);
    }
    expect(existsSync(dirname(where))).toBe(false);
  });

  it('every command on a session that does not exist ends alike: exit 2, the session named, where to look', async () => {
    const file = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
    const session = `never-started-${Date.now()}`;
    for (const command of [
      ['status', session],
      ['retry', session],
      ['pause', session],
      ['skip', session, '5'],
    ]) {
      const err = await cliFailure(runCli(['--config', file, ...command], stack.env));
      expect(err?.code, command.join(' ')).toBe(2);
      expect(err?.stderr).toMatch(
        new RegExp(
          `^Session ${session} does not exist or no longer runs .*"moodle-archiver sessions list" shows the sessions there are\\n$`,
        ),
      );
    }
  });
});

// One table of malformed inputs, each refused by the check that runs before anything starts
// (config load, worker start, session or schedule validation), with the field named.
describe('malformed inputs, one table', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 2, workers: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  type Case =
    | { kind: 'config'; name: string; patch: (raw: Record<string, unknown>, env: Record<string, string>) => void; expected: RegExp }
    | { kind: 'worker'; name: string; patch: (raw: Record<string, unknown>) => void; queues: string[]; expected: RegExp }
    | { kind: 'session' | 'schedule'; name: string; input: Record<string, unknown>; expected: RegExp }
    | { kind: 'fire-times'; name: string; times: { yearly?: string; cron?: string }; expected: RegExp };
  const site = (raw: Record<string, unknown>, id: string) => (raw.sites as Record<string, Record<string, unknown>>)[id];
  const window = (windows: unknown[], timezone = 'Europe/Paris') => ({ windows: { timezone, windows } });
  const rule = { pattern: '{yearStart}-{yearEnd}', yearsBack: 1, startMonth: 9, match: 'idnumber', timezone: 'Europe/Paris' };
  const cases: Case[] = [
    {
      kind: 'config',
      name: 'missing token',
      patch: (_r, env) => {
        delete env.MOODLE_TOKEN_PROD;
      },
      expected: /sites\.prod\.token: missing; set MOODLE_TOKEN_PROD/,
    },
    {
      kind: 'config',
      name: 'token with a space',
      patch: (_r, env) => {
        env.MOODLE_TOKEN_PROD = 'abc def';
      },
      expected: /sites\.prod\.token: a Moodle token is letters and digits only/,
    },
    {
      kind: 'config',
      name: 'token file missing',
      patch: (r, env) => {
        delete env.MOODLE_TOKEN_PROD;
        site(r, 'prod').tokenFile = '/nonexistent/prod.token';
      },
      expected: /sites\.prod\.tokenFile: \/nonexistent\/prod\.token does not exist/,
    },
    {
      kind: 'config',
      name: 'URL not http',
      patch: (r) => {
        site(r, 'prod').url = 'ftp://moodle';
      },
      expected: /sites\.prod\.url: must be the site's wwwroot/,
    },
    {
      kind: 'config',
      name: 'a typo in a top-level key',
      patch: (r) => {
        r.mainQueu = r.mainQueue;
        delete r.mainQueue;
      },
      expected: /mainQueu: unknown setting "mainQueu"; did you mean "mainQueue"\?/,
    },
    {
      kind: 'config',
      name: "a typo in a site's key",
      patch: (r) => {
        site(r, 'prod').maxConcurentJobs = 4;
      },
      expected: /sites\.prod\.maxConcurentJobs: unknown setting "maxConcurentJobs"; did you mean "maxConcurrentJobs"\?/,
    },
    {
      kind: 'config',
      name: "a typo in a site's admin CLI",
      patch: (r) => {
        (site(r, 'archive').cli as Record<string, unknown>).timeoutSecond = 60;
      },
      expected: /sites\.archive\.cli\.timeoutSecond: unknown setting "timeoutSecond"; did you mean "timeoutSeconds"\?/,
    },
    {
      kind: 'config',
      name: 'a typo in the Temporal section',
      patch: (r) => {
        r.temporal = { ...(r.temporal as object), namspace: 'prod' };
      },
      expected: /temporal\.namspace: unknown setting "namspace"; did you mean "namespace"\?/,
    },
    {
      kind: 'config',
      name: 'two sites staging in one folder',
      patch: (r) => {
        site(r, 'archive').staging = site(r, 'prod').staging;
      },
      expected:
        /sites\.archive\.staging: .* is also \(or holds\) sites\.prod\.staging; give each site and storage a staging folder of its own/,
    },
    {
      kind: 'config',
      name: 'archives inside a staging folder',
      patch: (r) => {
        r.storages = { cold: { path: `${String(site(r, 'prod').staging)}/archives`, staging: '/srv/cold-in' } };
      },
      expected: /storages\.cold\.path: .* is inside sites\.prod\.staging; keep the archives out of every staging folder/,
    },
    {
      kind: 'config',
      name: 'archives at the root',
      patch: (r) => {
        r.storages = { cold: { path: '/', staging: '/srv/cold-in' } };
      },
      expected: /storages\.cold\.path: "\/" cannot hold the archives/,
    },
    {
      kind: 'config',
      name: "main queue named like a host's",
      patch: (r) => {
        r.mainQueue = 'site/main';
      },
      expected: /mainQueue: must not start with "site\/"/,
    },
    {
      kind: 'config',
      name: 'empty namespace',
      patch: (r) => {
        r.temporal = { ...(r.temporal as object), namespace: '' };
      },
      expected: /temporal\.namespace: must name the Temporal namespace/,
    },
    {
      kind: 'config',
      name: 'webhook token variable not set',
      patch: (r) => {
        r.notifications = { webhook: { url: 'https://chat.example.edu/hook', tokenEnv: 'ARCHIVER_TEST_UNSET_HOOK_TOKEN' } };
      },
      expected: /notifications\.webhook\.tokenEnv: ARCHIVER_TEST_UNSET_HOOK_TOKEN is not set/,
    },
    {
      kind: 'config',
      name: 'a timeout no timer can hold',
      patch: (r) => {
        (site(r, 'prod').cli as Record<string, unknown>).timeoutSeconds = 30 * 86400;
      },
      expected: /sites\.prod\.cli\.timeoutSeconds: must be at most 2147483 s \(about 24\.8 days/,
    },
    {
      kind: 'config',
      name: 'retention beyond a century',
      patch: (r) => {
        r.retention = [{ keepYears: 500 }];
      },
      expected: /retention\.0\.keepYears: must be at most 100 years/,
    },
    {
      kind: 'config',
      name: 'site URL with a user and password',
      patch: (r) => {
        const url = new URL(String(site(r, 'prod').url));
        url.username = 'admin';
        url.password = 'hunter2';
        site(r, 'prod').url = url.href;
      },
      expected: /sites\.prod\.url: must not hold a user or password \("user:password@"\): remove them/,
    },
    {
      kind: 'config',
      name: 'webhook URL with a user and password',
      patch: (r) => {
        r.notifications = { webhook: { url: 'https://bot:s3cret@chat.example.edu/hook' } };
      },
      expected: /notifications\.webhook\.url: must not hold a user or password/,
    },
    {
      kind: 'config',
      name: 'no admin CLI',
      patch: (r) => {
        delete site(r, 'archive').cli;
      },
      expected: /sites\.archive\.cli: must describe how to run Moodle's admin CLI/,
    },
    {
      kind: 'config',
      name: 'no staging folder',
      patch: (r) => {
        delete site(r, 'prod').staging;
      },
      expected: /sites\.prod\.staging: must be the folder where this site's \.mbz files are staged/,
    },
    {
      kind: 'config',
      name: 'site id with capitals',
      patch: (r) => {
        r.sites = { Prod: site(r, 'prod') };
      },
      expected: /sites\.Prod: "Prod" is not a site id: use lowercase letters/,
    },
    {
      kind: 'config',
      name: 'no site at all',
      patch: (r) => {
        r.sites = {};
      },
      expected: /sites: list at least one Moodle site/,
    },
    {
      kind: 'config',
      name: 'zero jobs per host',
      patch: (r) => {
        site(r, 'prod').maxConcurrentJobs = 0;
      },
      expected: /sites\.prod\.maxConcurrentJobs/,
    },
    {
      kind: 'config',
      name: 'a catalog that is neither SQLite nor PostgreSQL',
      patch: (r) => {
        r.catalog = { url: 'mysql://db/catalog' };
      },
      expected: /catalog\.url: "mysql:" is not a catalog; use "file:<path>" \(SQLite\) or "postgresql:/,
    },
    {
      kind: 'config',
      name: 'unknown log level',
      patch: (r) => {
        r.logLevel = 'loud';
      },
      expected: /logLevel: /,
    },
    {
      kind: 'config',
      name: 'webhook URL not a URL',
      patch: (r) => {
        r.notifications = { webhook: { url: 'chat' } };
      },
      expected: /notifications\.webhook\.url: must be the http\(s\) URL/,
    },
    {
      kind: 'config',
      name: 'email with no recipient',
      patch: (r) => {
        r.notifications = { email: { host: 'smtp', from: 'a@b.c', to: [] } };
      },
      expected: /notifications\.email\.to: list at least one recipient/,
    },
    {
      kind: 'config',
      name: 'route to an unknown target',
      patch: (r) => {
        r.transports = [{ from: 'prod', to: 'nowhere', driver: 'moodle-ws' }];
      },
      expected: /transports\.0\.to: unknown target "nowhere"/,
    },
    {
      kind: 'config',
      name: 'route with an unknown driver',
      patch: (r) => {
        r.transports = [{ from: 'prod', to: 'archive', driver: 'rsync' }];
      },
      expected: /transports\.0\.driver: "shared-path" .* or "moodle-ws"/,
    },
    {
      kind: 'config',
      name: 'storage named like a site',
      patch: (r) => {
        r.storages = { archive: { path: '/srv/a', staging: '/srv/b' } };
      },
      expected: /storages\.archive: a site has the same id/,
    },
    {
      kind: 'config',
      name: 'retention with no duration',
      patch: (r) => {
        r.retention = [{ categoryId: 3 }];
      },
      expected: /retention\.0\.keepYears: say how many years/,
    },
    {
      kind: 'worker',
      name: 'unusable staging folder',
      patch: (r) => {
        site(r, 'prod').staging = '/dev/null/staging';
      },
      queues: ['site/prod'],
      expected: /sites\.prod\.staging: \/dev\/null\/staging cannot be used by this worker \(ENOTDIR\)/,
    },
    {
      kind: 'worker',
      name: 'unusable storage folder',
      patch: (r) => {
        r.storages = { cold: { path: '/dev/null/cold', staging: '/var/tmp/archiver-cold-staging' } };
      },
      queues: ['site/cold'],
      expected: /storages\.cold\.path: \/dev\/null\/cold cannot be used by this worker/,
    },
    {
      kind: 'session',
      name: 'unknown source site',
      input: { sourceSiteId: 'nowhere' },
      expected: /sourceSiteId: unknown site "nowhere"; the config has: prod, archive/,
    },
    {
      kind: 'session',
      name: 'unknown target',
      input: { targetSiteId: 'archvie' },
      expected: /targetSiteId: unknown site or storage "archvie"/,
    },
    {
      kind: 'session',
      name: 'source is the target',
      input: { targetSiteId: 'prod' },
      expected: /targetSiteId: must differ from sourceSiteId/,
    },
    {
      kind: 'session',
      name: 'negative category id',
      input: { sourceCategoryId: -4 },
      expected: /sourceCategoryId: must be the id of the source category/,
    },
    { kind: 'session', name: 'fractional category id', input: { sourceCategoryId: 2.5 }, expected: /sourceCategoryId: / },
    {
      kind: 'session',
      name: 'Moodle target without category',
      input: { targetCategoryId: undefined },
      expected: /targetCategoryId: missing; name the category of archive/,
    },
    { kind: 'session', name: 'negative concurrency', input: { concurrency: -3 }, expected: /concurrency: must be at least 1/ },
    {
      kind: 'session',
      name: 'concurrency above its maximum',
      input: { concurrency: 9, maxConcurrency: 4 },
      expected: /concurrency: 9 is above maxConcurrency \(4\)/,
    },
    { kind: 'session', name: 'concurrency above the ceiling', input: { concurrency: 500 }, expected: /concurrency: must be at most 200/ },
    { kind: 'session', name: 'session name with a space', input: { session: 'my session' }, expected: /session: use letters, digits/ },
    { kind: 'session', name: 'no vintage', input: { vintage: '' }, expected: /vintage: give the academic vintage/ },
    {
      kind: 'session',
      name: 'deleteSource unsaid',
      input: { deleteSource: undefined },
      expected: /deleteSource: say whether sources are deleted/,
    },
    { kind: 'session', name: 'a misspelt setting', input: { concurency: 4 }, expected: /concurency/ },
    {
      kind: 'session',
      name: 'overlapping windows',
      input: window([
        { days: 'mon', from: '19:00', to: '23:00' },
        { days: 'mon-tue', from: '22:00', to: '06:00' },
      ]),
      expected: /windows\.windows\[1\]: overlaps windows\[0\] on mon/,
    },
    {
      kind: 'session',
      name: 'unknown time zone',
      input: window([{ days: 'sat-sun', from: '00:00', to: '24:00' }], 'Paris'),
      expected: /windows\.timezone: "Paris" is not a known time zone/,
    },
    {
      kind: 'session',
      name: 'a time in 12-hour form',
      input: window([{ days: 'mon-fri', from: '7pm', to: '07:00' }]),
      expected: /windows\.windows\[0\]\.from: "7pm" is not a time/,
    },
    { kind: 'session', name: 'no window in the list', input: window([]), expected: /windows\.windows: list at least one window/ },
    {
      kind: 'session',
      name: 'a rehearsal clock without windows',
      input: { clock: { speed: 60 } },
      expected: /clock: a rehearsal clock only makes sense with windows/,
    },
    { kind: 'session', name: 'a negative failure hold', input: { failureHoldHours: -1 }, expected: /failureHoldHours: must be 0 or more/ },
    {
      kind: 'session',
      name: 'roll-over too late for history',
      input: { continueAsNewAfter: 5000 },
      expected: /continueAsNewAfter: must be at most 1000/,
    },
    {
      kind: 'session',
      name: 'a prediction for a phase that does not exist',
      input: { prediction: { phaseCosts: { upload: { fixedSeconds: 1 } } } },
      expected: /"upload" is not a phase/,
    },
    { kind: 'session', name: 'a path-like vintage', input: { vintage: '../../etc' }, expected: /vintage: a label such as "2024-2025"/ },
    { kind: 'session', name: 'an over-long vintage', input: { vintage: '2024-'.repeat(20) }, expected: /vintage: at most 64 characters/ },
    {
      kind: 'fire-times',
      name: 'a yearly day no month has',
      times: { yearly: '02-30 20:00' },
      expected: /--yearly: "02-30 20:00" never or rarely comes \(no such day\)/,
    },
    {
      kind: 'fire-times',
      name: 'a yearly day of leap years only',
      times: { yearly: '02-29 20:00' },
      expected: /only in leap years.*"02-28 20:00"/,
    },
    {
      kind: 'fire-times',
      name: 'a cron that never fires',
      times: { cron: '0 20 30 2 *' },
      expected: /--cron: "0 20 30 2 \*" is not a cron expression that can fire/,
    },
    {
      kind: 'fire-times',
      name: 'a cron out of range',
      times: { cron: '0 25 1 7 *' },
      expected: /--cron: "0 25 1 7 \*" is not a cron expression that can fire/,
    },
    {
      kind: 'fire-times',
      name: 'a cron in words',
      times: { cron: 'every July' },
      expected: /--cron: "every July" is not a cron expression of five fields/,
    },
    {
      kind: 'schedule',
      name: 'a vintage rule with no time zone',
      input: { vintageRule: { ...rule, timezone: undefined } },
      expected: /vintageRule\.timezone: name the time zone/,
    },
    {
      kind: 'schedule',
      name: 'a vintage rule matching on an unknown field',
      input: { vintageRule: { ...rule, match: 'shortname' } },
      expected: /vintageRule\.match: say which category field holds the vintage/,
    },
  ];

  it(`refuses each of ${cases.length} malformed inputs before anything starts, naming the field`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const refusals: string[] = [];
    for (const c of cases) {
      const raw = structuredClone(stack.rawConfig) as Record<string, unknown>;
      const env = { ...stack.env };
      let attempt: () => unknown;
      if (c.kind === 'config') {
        c.patch(raw, env);
        attempt = () => parseConfig(raw, { env });
      } else if (c.kind === 'worker') {
        c.patch(raw);
        // The real worker start: it refuses before it connects to Temporal.
        attempt = () => startWorkers({ config: parseConfig(raw, { env }), queues: c.queues });
      } else if (c.kind === 'fire-times') {
        attempt = () => scheduleSpec({ ...c.times, timezone: 'Europe/Paris' });
      } else if (c.kind === 'session') {
        attempt = () => validateSessionInput({ ...stack.sessionInput(), ...c.input }, stack.config);
      } else {
        // A schedule resolves these when it fires: its input has none of them.
        const rest = Object.fromEntries(
          Object.entries(stack.sessionInput()).filter(([k]) => !['session', 'vintage', 'sourceCategoryId'].includes(k)),
        );
        attempt = () => validateScheduledSessionInput({ ...rest, scheduleId: 'vintage-prod', vintageRule: rule, ...c.input }, stack.config);
      }
      let message = '(accepted)';
      try {
        await attempt();
      } catch (e) {
        message = e instanceof ConfigError || e instanceof SessionInputError ? e.message : `not a named refusal: ${(e as Error).message}`;
      }
      expect(message, c.name).toMatch(c.expected);
      refusals.push(message);
    }
    expect(refusals).toHaveLength(cases.length);
  });
});
