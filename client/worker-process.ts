// `moodle-archiver worker`: the build's worker (dist/worker.mjs) in a node of its own, started with the memory
// flags and environment a worker runs with (workers/node-flags.ts), which node and glibc read only at start.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../workers/node-flags';

/** Runs the worker with `args` until it exits; SIGINT and SIGTERM go to it (it stops cleanly). Its exit code. */
export async function runWorkerProcess(args: string[]): Promise<number> {
  // Beside the CLI's build: dist/cli.mjs and dist/worker.mjs.
  const main = fileURLToPath(new URL('./worker.mjs', import.meta.url));
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
  // What the operator set wins (MALLOC_ARENA_MAX included).
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, main, ...args], {
    stdio: 'inherit',
    env: { ...WORKER_ENV, ...process.env },
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  // Ended by a signal (killed): a failure.
  return await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}
