// The worker command. Production runs one on each Moodle host (site/<id>
// queue) and one for the web-service work (main queue); the demo runs one
// process for all.
import { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createLogger } from '../activities/logger';
import { ConfigError, loadConfig } from './config';
import { allQueues, startWorkers } from './run';

const program = new Command()
  .name('archiver-worker')
  .description('Runs the archiver workers for the given task queues')
  .option('-c, --config <file>', 'config file (or ARCHIVER_CONFIG)', process.env.ARCHIVER_CONFIG ?? 'archiver.config.json')
  .option('-q, --queues <list>', 'comma-separated queues to serve: the main queue and/or site/<id> (default: all)')
  .parse();

const opts = program.opts<{ config: string; queues?: string }>();
const log = createLogger();
try {
  const config = loadConfig(opts.config);
  Runtime.install({ logger: new DefaultLogger('WARN', (entry) => log.warn({ sdk: entry.meta }, entry.message)) });
  const queues = opts.queues ? opts.queues.split(',').map((q) => q.trim()) : allQueues(config);
  const workers = await startWorkers({ config, queues });
  log.info({ queues, temporal: config.temporal.address, namespace: config.temporal.namespace }, 'workers started');
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void workers.shutdown(); });
  await workers.done;
  log.info('workers stopped');
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
