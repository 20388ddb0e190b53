// What every command group shares: the root command with its --config option,
// the config it names, option parsers, and running an action with a client.
import type { Client } from '@temporalio/client';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../workers/config';

export const int = (name: string) => (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
  return Number(v);
};
export const num = (name: string) => (v: string) => {
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new InvalidArgumentError(`${name} must be a number`);
  return Number(v);
};
export const collect = (v: string, all: string[] = []) => [...all, v];
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The root command: each group of commands registers itself on it. */
export const program = new Command()
  .name('moodle-archiver')
  .description('Archive Moodle course categories with Temporal')
  .option('-c, --config <file>', 'config file (or ARCHIVER_CONFIG)', process.env.ARCHIVER_CONFIG ?? 'archiver.config.json');

export const config = () => loadConfig(program.opts<{ config: string }>().config, { requireTokens: false });

/** A one-shot call to the server or a session: while it times out or finds the server busy, one line and again, for
 * up to two minutes (client/busy.ts). */
export async function patiently<T>(client: Client, what: string, call: () => Promise<T>): Promise<T> {
  const { whileBusy } = await import('../busy');
  return whileBusy({ client, what, queue: config().mainQueue, withinMs: 120_000 }, call);
}

/** Runs one operator action on a session with a client, then closes it. */
export const act =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes positional arguments untyped
  <A extends any[]>(fn: (client: Client, ...args: A) => Promise<void>) =>
    async (...args: A) => {
      // Loaded on use: the Temporal client takes half a second to load, and --help or a refused input needs none.
      const { connectClient } = await import('../connection');
      const client = await connectClient(config());
      try {
        await fn(client, ...args);
      } finally {
        await client.connection.close();
      }
    };
