// The archive catalog: find, verify the ledger, expire, rebuild.
import { type Command } from 'commander';
import type { Catalog } from '../../activities/catalog';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEDGER_HEADS_FILE, type ArchiverConfig } from '../../contract';
import { ActionRefused } from '../action-refused';
import { config } from './common';

export function registerCatalogCommands(program: Command): void {
  const catalogCmd = program.command('catalog').description('the archive catalog: where courses are, its ledger, retention, rebuild');
  /** Opens the catalog of the config for one command, then closes it: to read only (find, verify), or to write. */
  const withCatalog = async <T>(fn: (catalog: Catalog, cfg: ReturnType<typeof config>) => Promise<T>, mode: 'read' | 'write' = 'read') => {
    const cfg = config();
    const { Catalog } = await import('../../activities/catalog');
    const catalog = await Catalog.open(cfg.catalog.url, mode);
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
    .description(
      "walk the ledger's hash chain and compare each catalog row with it; exit 1 on any edited or removed entry or row, or a cut-off tail",
    )
    .option('--head <seq:hash>', "a ledger head kept elsewhere (a session's end notice or report): the ledger must still reach it")
    .option('--json', 'as JSON')
    .action(async (o: { head?: string; json?: boolean }) => {
      const given = o.head === undefined ? undefined : /^(\d+):([0-9a-f]{64})$/.exec(o.head);
      if (given === null)
        throw new ActionRefused(`--head: "${o.head}" is not a ledger head; write it as <seq>:<sha256>, as a session's end notice gives it`);
      const report = await withCatalog(async (catalog, cfg) => {
        // The heads kept beside each storage this host reaches, and the one given: the latest is checked.
        const heads = [...storageHeads(cfg, catalog), ...(given ? [{ seq: Number(given[1]), hash: given[2] }] : [])];
        const head = heads.sort((a, b) => b.seq - a.seq)[0];
        return { ...(await catalog.verifyLedger(head)), checkedHead: head ?? null };
      });
      if (o.json) console.log(asJson(report));
      else if (!report.problems.length)
        console.log(
          `Ledger intact: ${report.entries} entries, head ${report.head}${report.checkedHead ? `; reaches the head kept elsewhere (entry ${report.checkedHead.seq})` : ''}`,
        );
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
      }, 'write');
    });

  catalogCmd
    .command('rebuild')
    .description(
      're-read every package of a cold storage and record each in the catalog (after the catalog was lost); run it where the storage is mounted',
    )
    .requiredOption('--storage <id>', 'the storage to read, from the config')
    .action(async (o: { storage: string }) => {
      const { rebuildFromStorage } = await import('../catalog');
      const report = await withCatalog((catalog, cfg) => rebuildFromStorage(cfg, catalog, o.storage), 'write');
      console.log(
        `Rebuilt from ${o.storage}: ${report.recorded} recorded, ${report.unchanged} already there, ${report.broken.length} broken`,
      );
      for (const b of report.broken) console.log(`  broken: ${b.name}: ${b.problems.join('; ')}`);
      if (report.broken.length) process.exitCode = 1;
    });
}

/** The last head of this catalog that each storage folder this host reaches keeps (written at each session's end). */
function storageHeads(cfg: ArchiverConfig, catalog: Catalog): { seq: number; hash: string }[] {
  return Object.values(cfg.storages).flatMap((storage) => {
    const file = join(storage.path, LEDGER_HEADS_FILE);
    if (!existsSync(file)) return [];
    try {
      const head = catalog.keptHead(readFileSync(file, 'utf8'));
      return head ? [head] : [];
    } catch {
      throw new ActionRefused(`${file}: a line is not a ledger head; the file was edited, or cut mid-line`);
    }
  });
}
