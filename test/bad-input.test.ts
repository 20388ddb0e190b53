// Bad configuration and bad session requests are refused before any
// workflow starts, with a message that names the field.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, ConfigError } from '../workers/config';
import { validateSessionInput, SessionInputError } from '../client/session-input';
import { sessionWorkflowId } from '../workflows/phases';
import { startStack, writeConfigFile, type Stack } from './harness';

const run = promisify(execFile);

describe('bad configuration', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ courses: 2 }); });
  afterAll(async () => { await stack?.stop(); });

  const sites = () => structuredClone(stack.rawConfig.sites) as Record<string, Record<string, unknown>>;

  it('a missing token names the site and the environment variable to set', () => {
    const env = { ...stack.env };
    delete env.MOODLE_TOKEN_ARCHIVE;
    expect(() => parseConfig(stack.rawConfig, { env })).toThrow(ConfigError);
    expect(() => parseConfig(stack.rawConfig, { env })).toThrow(/sites\.archive\.token: missing; set MOODLE_TOKEN_ARCHIVE/);
  });

  it('a bad URL names the field and says what is expected', () => {
    const s = sites();
    s.prod.url = 'htp//moodle';
    expect(() => parseConfig({ ...stack.rawConfig, sites: s }, { env: stack.env })).toThrow(/sites\.prod\.url: must be the site's wwwroot/);
  });

  it('a missing admin-CLI setting names the field and gives an example', () => {
    const s = sites();
    delete s.archive.cli;
    expect(() => parseConfig({ ...stack.rawConfig, sites: s }, { env: stack.env })).toThrow(/sites\.archive\.cli: must describe how to run Moodle's admin CLI/);
  });

  it('transports, storages and retention rules name the field and the fix', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ transports: [{ from: 'prod', to: 'nowhere', driver: 'moodle-ws' }] }, /transports\.0\.to: unknown target "nowhere"; name a site of "sites" or a storage of "storages"/],
      [{ transports: [{ from: 'prod', to: 'archive', driver: 'ftp' }] }, /transports\.0\.driver: "shared-path" \(both hosts mount the staging folders\) or "moodle-ws"/],
      [{ transports: [{ from: 'prod', to: 'archive', driver: 'moodle-ws', mode: 'move' }] }, /transports\.0: "sourceMount" and "mode" are for the shared-path driver/],
      [{ transports: [{ from: 'prod', to: 'archive', driver: 'shared-path', maxMBps: 0 }] }, /transports\.0\.maxMBps: must be a positive number of MB per second/],
      [{ storages: { archive: { path: '/srv/a', staging: '/srv/a/in' } } }, /storages\.archive: a site has the same id; give the storage another name/],
      [{ storages: { cold: { staging: '/srv/a/in' } } }, /storages\.cold\.path: must be the folder that holds the sealed packages/],
      [{ retention: [{ categoryIdnumber: '2024-2025' }] }, /retention\.0\.keepYears: say how many years archives are kept/],
      [{ retention: [{ categoryId: 3, categoryIdnumber: '20??', keepYears: 5 }] }, /retention\.0: give categoryId or categoryIdnumber, not both/],
    ];
    for (const [patch, message] of bad) expect(() => parseConfig({ ...stack.rawConfig, ...patch }, { env: stack.env }), JSON.stringify(patch)).toThrow(message);
    // A cold storage takes no target category; a Moodle target needs one.
    const config = parseConfig({ ...stack.rawConfig, storages: { cold: { path: '/srv/a', staging: '/srv/a/in' } } }, { env: stack.env });
    expect(() => validateSessionInput({ ...stack.sessionInput(), targetSiteId: 'cold' }, config)).toThrow(/targetCategoryId: cold is a cold storage, which has no categories; leave it out/);
    expect(() => validateSessionInput({ ...stack.sessionInput(), targetCategoryId: undefined }, config)).toThrow(/targetCategoryId: missing; name the category of archive/);
  });

  it('an unknown site id in a session names the field and the known sites', () => {
    const config = parseConfig(stack.rawConfig, { env: stack.env });
    const bad = { ...stack.sessionInput(), targetSiteId: 'archvie' };
    expect(() => validateSessionInput(bad, config)).toThrow(SessionInputError);
    expect(() => validateSessionInput(bad, config)).toThrow(/targetSiteId: unknown site or storage "archvie"; the config has: prod, archive/);
    expect(() => validateSessionInput({ ...stack.sessionInput(), concurrency: 0 }, config)).toThrow(/concurrency: must be at least 1/);
  });

  it('bad windows, clocks and prediction settings name the field and the fix', () => {
    const config = parseConfig(stack.rawConfig, { env: stack.env });
    const refuse = (extra: Record<string, unknown>, expected: RegExp) =>
      expect(() => validateSessionInput({ ...stack.sessionInput(), ...extra }, config)).toThrow(expected);
    const paris = (windows: unknown[]) => ({ windows: { timezone: 'Europe/Paris', windows } });
    refuse(paris([{ days: 'mon-fri', from: '7pm', to: '07:00' }]), /windows\.windows\[0\]\.from: "7pm" is not a time; use 24-hour "HH:MM"/);
    refuse(paris([{ days: 'mon', from: '19:00', to: '23:00' }, { days: 'mon-tue', from: '22:00', to: '06:00' }]), /windows\.windows\[1\]: overlaps windows\[0\] on mon/);
    refuse(paris([]), /windows\.windows: list at least one window/);
    refuse(paris([{ days: 'mon', from: '19:00' }]), /windows\.windows\.0\.to: give the closing time/);
    refuse({ clock: { speed: 60 } }, /clock: a rehearsal clock only makes sense with windows/);
    refuse({ ...paris([{ days: 'daily', from: '19:00', to: '07:00' }]), clock: { speed: 0.5 } }, /clock\.speed: must be 1 \(real time\) or more/);
    refuse({ prediction: { safetyMargin: -1 } }, /prediction\.safetyMargin: must be 0 or more/);
    refuse({ prediction: { phaseCosts: { backup: { secondsPerMB: -2 } } } }, /prediction\.phaseCosts\.backup\.secondsPerMB: must be 0 or more seconds per MB/);
    refuse({ prediction: { phaseCosts: { backpu: { secondsPerMB: 1 } } } }, /prediction\.phaseCosts: "backpu" is not a phase; the phases are prepare, backup/);
  });

  it('the CLI refuses each before starting anything: exit 2, the field named, no workflow', async () => {
    const cases: [string, Record<string, unknown>, string[], RegExp][] = [
      ['bad-url', { ...stack.rawConfig, sites: { ...sites(), prod: { ...sites().prod, url: 'not a url' } } }, [], /sites\.prod\.url/],
      ['unknown-site', stack.rawConfig, ['--source-site', 'nowhere'], /sourceSiteId: unknown site "nowhere"/],
      ['bad-category', stack.rawConfig, ['--category', '-4'], /sourceCategoryId: must be the id of the source category/],
      ['bad-window-day', stack.rawConfig, ['--window', 'mon-fry 19:00-07:00'], /windows\.windows\[0\]\.days: "fry" is not a day/],
      ['bad-window-form', stack.rawConfig, ['--window', 'weeknights'], /--window: "weeknights" is not a window; write days then hours/],
      ['bad-timezone', stack.rawConfig, ['--window', 'sat-sun 00:00-24:00', '--timezone', 'Paris'], /windows\.timezone: "Paris" is not a known time zone/],
      ['above-max-concurrency', stack.rawConfig, ['--concurrency', '8', '--max-concurrency', '4'], /concurrency: 8 is above maxConcurrency \(4\)/],
    ];
    for (const [name, raw, extra, expected] of cases) {
      const file = writeConfigFile(stack, raw, `${name}.json`);
      const session = `bad-${name}-${Date.now()}`;
      const args = ['client/cli.ts', '--config', file, 'start', '--session', session, '--vintage', '2024-2025',
        '--source-site', 'prod', '--category', String(stack.vintageCategoryId), '--target-site', 'archive',
        '--target-category', String(stack.archivesCategoryId), ...extra];
      const err = await run('node_modules/.bin/tsx', args, { env: { ...process.env, ...stack.env } }).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(err, name).not.toBeNull();
      expect(err!.code).toBe(2);
      expect(err!.stderr).toMatch(expected);
      const started = stack.client.workflow.list({ query: `WorkflowId = '${sessionWorkflowId(session)}'` });
      const found: string[] = [];
      for await (const wf of started) found.push(wf.workflowId);
      expect(found).toEqual([]);
    }
  });
});
