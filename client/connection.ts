// The Temporal client for operators' commands, from the same config as the workers.
import { Client, Connection } from '@temporalio/client';
import type { ArchiverConfig } from '../contract';
import { connectionOptions, reaching } from '../workers/temporal-connection';

export async function connectClient(config: ArchiverConfig): Promise<Client> {
  const connection = await reaching(config.temporal, () => Connection.connect(connectionOptions(config.temporal)));
  return new Client({ connection, namespace: config.temporal.namespace });
}
