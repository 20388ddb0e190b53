// The archive catalog: find, verify the ledger, expire, rebuild.
import { type Command } from 'commander';
import type { Catalog } from '../../activities/catalog';
import { config } from './common';

export function registerCatalogCommands(program: Command): void {
  const catalogCmd = program.command('catalog').description('the archive catalog: where courses are, its ledger, retention, rebuild');
  /** Opens the catalog of the config for one command, then closes it. */
  const withCatalog = async <T>(fn: (catalog: Catalog, cfg: ReturnType<typeof config>) => Promise<T>) => {
    const cfg = config();
    const { Catalog } = await import('../../activities/catalog');
    const catalog = await Catalog.open(cfg.catalog.url);
    try {
      return await fn(catalog, cfg);
    } finally {
      await catalog.close();
    }
  };
  const asJson = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x), 2);

  catalogCmd
    .command('find <query...>')
    .description('where a course is now: by source id ("12" or "prod:12"), shortname, idnumber, or words of its full name')
    .option('--json', 'as JSON')
    .action(async (words: string[], o: { json?: boolean }) => {
      await withCatalog(async (catalog) => {
        const { renderCatalogRows } = await import('../catalog');
        const rows = await catalog.search(words.join(' '));
        console.log(o.json ? asJson(rows) : renderCatalogRows(rows));
      });
    });

  catalogCmd
    .command('verify')
    .description("walk the ledger's hash chain and compare each catalog row with it; exit 1 on any edited or removed entry")
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const report = await withCatalog((catalog) => catalog.verifyLedger());
      if (o.json) console.log(asJson(report));
      else if (!report.problems.length) console.log(`Ledger intact: ${report.entries} entries, head ${report.head}`);
      else console.log(`Ledger BROKEN (${report.entries} entries read):\n${report.problems.map((p) => `  - ${p}`).join('\n')}`);
      if (report.problems.length) process.exitCode = 1;
    });

  catalogCmd
    .command('expire')
    .description('delete the archives whose retention has passed (on their hosts, by a workflow), logged in the ledger')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--as-of <date>', 'judge retention at this date instead of now (ISO)')
    .action(async (o: { dryRun?: boolean; asOf?: string }) => {
      const asOf = o.asOf ? new Date(o.asOf) : new Date();
      if (Number.isNaN(asOf.getTime()))
        program.error(`--as-of: "${o.asOf}" is not a date; write it as 2031-09-01 or 2031-09-01T00:00:00Z`, { exitCode: 2 });
      await withCatalog(async (catalog, cfg) => {
        const [{ connectClient }, { expireDue, renderCatalogRows }] = await Promise.all([import('../connection'), import('../catalog')]);
        const client = await connectClient(cfg);
        try {
          const { due, result } = await expireDue(client, cfg, catalog, asOf, Boolean(o.dryRun));
          if (!due.length) {
            console.log(`Nothing to expire as of ${asOf.toISOString()}.`);
            return;
          }
          console.log(renderCatalogRows(due));
          if (!result) {
            console.log(`\nDry run: ${due.length} archive(s) would be deleted.`);
            return;
          }
          console.log(`\nExpired ${result.expired.length} of ${due.length}.`);
          for (const f of result.failed) console.log(`  failed: catalog entry ${f.catalogId}: ${f.message}`);
          if (result.failed.length) process.exitCode = 1;
        } finally {
          await client.connection.close();
        }
      });
    });

  catalogCmd
    .command('rebuild')
    .description(
      're-read every package of a cold storage and record each in the catalog (after the catalog was lost); run it where the storage is mounted',
    )
    .requiredOption('--storage <id>', 'the storage to read, from the config')
    .action(async (o: { storage: string }) => {
      const { rebuildFromStorage } = await import('../catalog');
      const report = await withCatalog((catalog, cfg) => rebuildFromStorage(cfg, catalog, o.storage));
      console.log(
        `Rebuilt from ${o.storage}: ${report.recorded} recorded, ${report.unchanged} already there, ${report.broken.length} broken`,
      );
      for (const b of report.broken) console.log(`  broken: ${b.name}: ${b.problems.join('; ')}`);
      if (report.broken.length) process.exitCode = 1;
    });
}
