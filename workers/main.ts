// The worker command. Production runs one on each Moodle host (site/<id>
// queue) and one for the web-service work (main queue); the demo runs one
// process for all.
import { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../activities/logger';
import { ConfigError, configSecrets, loadConfig } from './config';
import { allQueues, startWorkers, writeWorkflowBundle } from './run';
import { TemporalUnreachable } from './temporal-connection';

const program = new Command()
  .name('archiver-worker')
  .description('Runs the archiver workers for the given task queues')
  .option('-c, --config <file>', 'config file (or ARCHIVER_CONFIG)', process.env.ARCHIVER_CONFIG ?? 'archiver.config.json')
  .option('-q, --queues <list>', 'comma-separated queues to serve: the main queue and/or site/<id> (default: all)')
  .option('--metrics-address <host:port>', "this worker's Prometheus endpoint (default: the config's metrics.bindAddress)")
  .option('--workflow-bundle <file>', "workflows bundled beforehand (default: the build's dist/workflows-bundle.js, else bundled at start)")
  .option('--write-workflow-bundle <file>', 'bundle the workflows into <file> and exit (npm run build does, for dist/)')
  .parse();

const SDK_LEVEL = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' } as const;
const PINO_METHOD = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

const opts = program.opts<{
  config: string;
  queues?: string;
  workflowBundle?: string;
  writeWorkflowBundle?: string;
  metricsAddress?: string;
}>();
if (opts.writeWorkflowBundle) {
  await writeWorkflowBundle(opts.writeWorkflowBundle);
  process.exit(0);
}
// The build's bundle, beside the build's worker: an installed package runs the workflows it was built with, and
// starts without webpack (about 5 s of CPU and 300 MB at each start). Run from source (tsx), there is none.
const builtBundle = fileURLToPath(new URL('./workflows-bundle.js', import.meta.url));
const bundleFile = opts.workflowBundle ?? (existsSync(builtBundle) ? builtBundle : undefined);
try {
  const config = loadConfig(opts.config);
  const log = createLogger(undefined, undefined, configSecrets(config));
  // The SDK's own lines go through the same logger (and its token scrubbing), at the same level.
  // Metrics on /metrics of that address: the SDK's (temporal_*) and the archiver's (archiver_*), seconds for
  // durations and _total on counters, as Prometheus names them.
  const metricsAddress = opts.metricsAddress ?? config.metrics.bindAddress;
  Runtime.install({
    logger: new DefaultLogger(SDK_LEVEL[log.level as keyof typeof SDK_LEVEL], (e) => log[PINO_METHOD[e.level]]({ sdk: e.meta }, e.message)),
    ...(metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: metricsAddress,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
                // A phase takes from a second (prepare) to hours (a large restore).
                histogramBucketOverrides: { archiver_phase_duration: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400, 28800] },
              },
            },
          },
        }
      : {}),
  });
  const queues = opts.queues ? opts.queues.split(',').map((q) => q.trim()) : allQueues(config);
  const workflowBundle = bundleFile ? { code: readFileSync(bundleFile, 'utf8') } : undefined;
  const workers = await startWorkers({ config, queues, workflowBundle });
  log.info(
    {
      queues,
      build: workers.buildId,
      temporal: config.temporal.address,
      namespace: config.temporal.namespace,
      metrics: metricsAddress ?? null,
    },
    'workers started',
  );
  let stopping: Promise<void> | undefined;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      stopping ??= workers.shutdown();
    });
  await workers.done;
  // Then the catalog and the Temporal client close; whatever still holds the process open (a connection to a
  // server that went away) does not keep a stopped worker alive.
  await Promise.race([stopping?.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
  log.info('workers stopped');
  process.exit(0);
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  if (e instanceof TemporalUnreachable) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
