// The demo as a newcomer runs it: it finds free ports when the usual ones
// are taken, everything it started stops with it on Ctrl-C, and a failure is
// one clear line and a non-zero exit.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness';

function runDemo(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'rig/demo.ts', '--data', mkdtempSync(join(tmpdir(), 'demo-')), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 128 : null))));
  return { child, out, exited };
}

const answers = (port: number) =>
  new Promise<boolean>((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });

describe('the demo', () => {
  let held: Server | undefined;
  beforeAll(async () => {
    // Hold 7233 as another Temporal would (if something already holds it, it is taken all the same).
    held = createServer();
    await new Promise<void>((r) => held!.once('error', () => r()).listen(7233, '127.0.0.1', () => r()));
  });
  afterAll(() => {
    held?.close();
  });

  it('takes free ports when 7233 is taken, and stops its servers and workers on Ctrl-C', { timeout: 120_000 }, async () => {
    const demo = runDemo(['--courses', '40', '--concurrency', '2']);
    const started = await until(
      async () => /dev server on 127\.0\.0\.1:(\d+) \(Web UI on http:\/\/localhost:(\d+)\)[\s\S]*Archiving category/.exec(demo.out.stdout),
      (m) => m !== null,
      90_000,
    );
    const [grpc, ui] = [Number(started![1]), Number(started![2])];
    expect(grpc).not.toBe(7233);
    expect(await answers(grpc)).toBe(true);
    demo.child.kill('SIGINT');
    expect(await demo.exited, demo.out.stderr.slice(-3000)).toBe(130);
    expect(demo.out.stderr).toContain('SIGINT: stopping');
    // Nothing it started still listens.
    await until(
      async () => [await answers(grpc), await answers(ui)],
      (up) => !up.includes(true),
      15_000,
    );
  });

  it(
    'prints CLI commands for its session that work as printed: status, and catalog find by the start of a shortname',
    { timeout: 150_000 },
    async () => {
      const demo = runDemo(['--courses', '4', '--keep-running']);
      await until(
        async () => demo.out.stdout,
        (o) => o.includes('Servers are still up') || demo.child.exitCode !== null,
        120_000,
      );
      try {
        const printed = (label: RegExp) => {
          const m = label.exec(demo.out.stdout);
          expect(m, `${label} in:\n${demo.out.stdout}`).not.toBeNull();
          // What the README's `npm run cli --` runs: the build.
          return m![1].replace(/^npm run cli --/, `${process.execPath} dist/cli.mjs`);
        };
        const run = async (command: string) => {
          const [bin, ...args] = command.split(' ');
          return (await promisify(execFile)(bin, args)).stdout;
        };
        expect(await run(printed(/Follow it from another terminal: (.*) --watch\n/))).toMatch(/^Session demo-2024-2025: finished, 4\/4/);
        const find = printed(/where a course is now: +(.*)\n/);
        expect(find).toMatch(/catalog find [a-z]{4}$/);
        const rows = await run(find);
        expect(rows).toMatch(/archived, source deleted/);
      } finally {
        demo.child.kill('SIGINT');
        await demo.exited;
      }
    },
  );

  it('ends a failure with one clear line and a non-zero exit', { timeout: 60_000 }, async () => {
    // A temporal CLI that cannot run (a file that is not a program).
    const broken = join(mkdtempSync(join(tmpdir(), 'demo-cli-')), 'temporal');
    writeFileSync(broken, 'not a program');
    const demo = runDemo(['--courses', '5'], { TEMPORAL_CLI: broken });
    expect(await demo.exited).toBe(1);
    const lines = demo.out.stderr.split('\n').filter((l) => l.trim());
    expect(lines).toEqual([
      `The demo failed: cannot run the temporal CLI (${broken}): spawn ${broken} EACCES; scripts/ensure-temporal.sh installs it`,
    ]);
  });
});
