// Before a first session: doctor, and the search attributes of a real cluster.
import { type Command } from 'commander';
import { SessionInputError } from '../session-input';
import { act, collect, config, int } from './common';

export function registerSetupCommands(program: Command): void {
  program
    .command('worker')
    .description("run the workers of this host: the main queue's, or a Moodle or storage host's (site/<id>)")
    .option('-q, --queues <list>', 'comma-separated queues to serve: the main queue and/or site/<id> (default: all)')
    .option('--workflow-bundle <file>', "workflows bundled beforehand (default: the build's own)")
    .option('--metrics-address <host:port>', "this worker's Prometheus endpoint (default: the config's metrics.bindAddress)")
    .action(async (o: { queues?: string; workflowBundle?: string; metricsAddress?: string }) => {
      const { runWorkerProcess } = await import('../worker-process');
      process.exitCode = await runWorkerProcess([
        '--config',
        program.opts<{ config: string }>().config,
        ...(o.queues ? ['--queues', o.queues] : []),
        ...(o.workflowBundle ? ['--workflow-bundle', o.workflowBundle] : []),
        ...(o.metricsAddress ? ['--metrics-address', o.metricsAddress] : []),
      ]);
    });

  program
    .command('doctor')
    .description('check every configured site before a first session: token, functions, release, admin CLI, staging space')
    .option('--site <id>', 'check only this site (repeat for more)', collect)
    .option('--source-site <id>', 'with --category: the site of the category to archive')
    .option('--category <id>', 'the category a session would archive: its largest course sizes the staging check', int('--category'))
    .option('--wait <seconds>', "how long each site's worker may take to answer", int('--wait'), 30)
    .action(
      act(async (client, o: { site?: string[]; sourceSite?: string; category?: number; wait: number }) => {
        const cfg = config();
        const unknown = (o.site ?? []).filter((id) => !cfg.sites[id]);
        if (unknown.length)
          throw new SessionInputError([`--site: unknown site ${unknown.join(', ')}; the config has: ${Object.keys(cfg.sites).join(', ')}`]);
        if (o.category !== undefined && !o.sourceSite) throw new SessionInputError(['--source-site: say which site holds --category']);
        const { doctorPassed, renderDoctor, runDoctor } = await import('../doctor');
        const report = await runDoctor(client, cfg, {
          siteIds: o.site,
          workerWaitSeconds: o.wait,
          selection: o.category !== undefined ? { siteId: o.sourceSite!, categoryId: o.category } : undefined,
        });
        console.log(renderDoctor(report));
        if (!doctorPassed(report)) process.exitCode = 1;
      }),
    );

  program
    .command('setup-search-attributes')
    .description('register the Archive* search attributes on a real Temporal cluster (the dev server gets them at start)')
    .action(
      act(async (client) => {
        const ns = config().temporal.namespace;
        const { registerSearchAttributes } = await import('../register-search-attributes');
        const { added, present } = await registerSearchAttributes(client, ns);
        console.log(`Namespace ${ns}: added ${added.join(', ') || 'none'}; already there: ${present.join(', ') || 'none'}`);
      }),
    );
}
