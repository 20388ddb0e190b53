// The package as an operator installs it (npm pack: what `npm install -g` puts on a host) runs a session from its
// own files, its worker started by `moodle-archiver worker`; and the systemd units it ships pass systemd's check.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '../client/sessions';
import { startStack, until, writeConfigFile, type Stack } from './harness';

const REPO = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'archiver-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the systemd units the package ships', () => {
  it('pass systemd-analyze verify with no warning, and start `moodle-archiver worker` on the right queues', async () => {
    const units = join(REPO, 'deploy', 'systemd');
    const example = JSON.parse(readFileSync(join(REPO, 'archiver.config.example.json'), 'utf8')) as { mainQueue: string };
    const main = readFileSync(join(units, 'moodle-archiver-main.service'), 'utf8');
    const site = readFileSync(join(units, 'moodle-archiver-site@.service'), 'utf8');
    const BIN = '/usr/local/bin/moodle-archiver';
    expect(main).toContain(`ExecStart=${BIN} worker --queues ${example.mainQueue}\n`);
    expect(site).toContain(`ExecStart=${BIN} worker --queues site/%i\n`);
    // verify checks that the command exists: here a stand-in, as npm install -g puts the bin on a host.
    const bin = join(dir, 'moodle-archiver');
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    const checked = join(dir, 'units');
    execFileSync('mkdir', ['-p', checked]);
    writeFileSync(join(checked, 'moodle-archiver-main.service'), main.replaceAll(BIN, bin));
    // A template is checked as an instance of it.
    writeFileSync(join(checked, 'moodle-archiver-site@prod.service'), site.replaceAll(BIN, bin));
    const { stdout, stderr } = await promisify(execFile)('systemd-analyze', [
      'verify',
      join(checked, 'moodle-archiver-main.service'),
      join(checked, 'moodle-archiver-site@prod.service'),
    ]);
    // systemd-analyze exits 0 on an unknown key, with a warning: none may be there.
    expect(stderr + stdout).toBe('');
  });
});

describe('the package, installed', () => {
  let stack: Stack;
  let pkg: string;
  beforeAll(async () => {
    stack = await startStack({ courses: 2, workers: false });
    const [{ filename }] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' }),
    ) as { filename: string }[];
    execFileSync('tar', ['-xzf', join(dir, filename), '-C', dir]);
    pkg = join(dir, 'package');
    // Its dependencies, as npm install would put them beside it.
    symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(
    'its `moodle-archiver worker` runs a session from the package alone, and stops on SIGTERM with exit 0',
    { timeout: 180_000 },
    async () => {
      const bin = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['moodle-archiver'];
      const config = writeConfigFile(stack, stack.rawConfig, 'archiver.config.json');
      // Run from elsewhere, as a service runs: nothing of the repository is on its way.
      const worker = spawn(process.execPath, [join(pkg, bin), '--config', config, 'worker'], {
        cwd: dir,
        env: { ...process.env, ...stack.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      worker.stdout.on('data', (d: Buffer) => (output += d.toString()));
      worker.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
      try {
        await until(
          async () => output,
          (o) => o.includes('workers started') || worker.exitCode !== null,
          90_000,
        );
        expect(output).toContain('workers started');
        const result = await (await startSession(stack.client, stack.config, stack.sessionInput())).result();
        expect(result.counts).toEqual({ succeeded: 2, failed: 0, skipped: 0, cancelled: 0 });
      } finally {
        worker.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      expect(output).toContain('workers stopped');
    },
  );
});
