// The Temporal client for operators' commands, from the same config as the workers.
import { Client, Connection } from '@temporalio/client';
import type { ArchiverConfig } from '../contract';

export async function connectClient(config: ArchiverConfig): Promise<Client> {
  const connection = await Connection.connect({
    address: config.temporal.address,
    tls: config.temporal.tls || undefined,
    apiKey: config.temporal.apiKey,
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}
