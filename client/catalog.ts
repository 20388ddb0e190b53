// `catalog find|verify|expire|rebuild`: the catalog as the administrator asks
// it "where is course X now", checks its ledger, applies retention, and
// rebuilds it from the cold storage's own manifests after a loss.
import type { Client } from '@temporalio/client';
import { archiveLocation, type Catalog, type CatalogRow } from '../activities/catalog';
import { MBZ_MEMBER, readPackage } from '../activities/storage/package';
import { storeOf } from '../activities/storage';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEDGER_HEADS_FILE, type ArchiverConfig } from '../contract';
import type { ExpireArchivesResult } from '../workflows/expire-archives';
import { table } from './render';

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : '-');

/** Where an archive stands, in one word. */
export const archiveState = (r: CatalogRow) =>
  r.expiredAt ? 'expired' : !r.verified ? 'unverified' : r.sourceDeleted ? 'archived, source deleted' : 'archived, source kept';

export function renderCatalogRows(rows: CatalogRow[]): string {
  if (!rows.length) return 'Not in the catalog.';
  return table(
    ['source', 'shortname', 'full name', 'where now', 'state', 'session', 'archived', 'kept until'],
    rows.map((r) => [
      `${r.sourceSiteId}:${r.sourceCourseId}`,
      r.shortname,
      r.fullname,
      archiveLocation(r),
      archiveState(r),
      r.sessionId,
      day(r.verifiedAt),
      r.retentionUntil ? day(r.retentionUntil) : 'forever',
    ]),
  ).join('\n');
}

export async function expireDue(
  client: Client,
  config: ArchiverConfig,
  catalog: Catalog,
  asOf: Date,
  dryRun: boolean,
): Promise<{ due: CatalogRow[]; result?: ExpireArchivesResult }> {
  const due = await catalog.dueForExpiry(asOf);
  if (dryRun || !due.length) return { due };
  const handle = await client.workflow.start('expireArchives', {
    taskQueue: config.mainQueue,
    workflowId: `expire-archives/${asOf.toISOString()}/${Date.now()}`,
    args: [{ archives: due.map((r) => ({ catalogId: r.id, targetSiteId: r.targetSiteId })), asOf: asOf.toISOString() }],
  });
  return { due, result: (await handle.result()) as ExpireArchivesResult };
}

export interface RebuildReport {
  recorded: number;
  unchanged: number;
  broken: { name: string; problems: string[] }[];
}

/**
 * Reads every package of a storage end to end and records each that reads clean:
 * the catalog row its manifest describes, and a "rebuilt" ledger entry.
 */
export async function rebuildFromStorage(
  config: ArchiverConfig,
  catalog: Catalog,
  storageId: string,
  onPackage: (name: string) => void = () => {},
): Promise<RebuildReport> {
  const storage = config.storages[storageId];
  if (!storage)
    throw new Error(`--storage: unknown storage "${storageId}"; the config has: ${Object.keys(config.storages).join(', ') || 'none'}`);
  const store = storeOf(storage);
  const report: RebuildReport = { recorded: 0, unchanged: 0, broken: [] };
  for (const name of store.list('.tar')) {
    onPackage(name);
    const read = await readPackage(store, name);
    const m = read.manifest;
    if (read.problems.length || !m) {
      report.broken.push({ name, problems: read.problems });
      continue;
    }
    const mbz = m.members.find((x) => x.name === MBZ_MEMBER)!;
    const version = m.course.version ?? 1;
    const existing = (await catalog.versions(m.source.siteId, m.course.id)).find((r) => r.version === version);
    if (existing && existing.storageLocation === name && existing.packageSha256 === read.packageSha256 && existing.verified) {
      report.unchanged++;
      continue;
    }
    await catalog.record({
      version,
      // Without it (a package of an older archiver) a session archives the course again rather than trust this row.
      sourceFingerprint: m.course.sourceFingerprint ?? null,
      sessionId: m.session,
      vintage: m.vintage,
      sourceSiteId: m.source.siteId,
      sourceCourseId: m.course.id,
      shortname: m.course.shortname,
      fullname: m.course.fullname,
      idnumber: m.course.idnumber,
      sourceCategoryId: m.course.categoryId,
      categoryPath: m.course.categoryPath,
      targetSiteId: storageId,
      targetCourseId: null,
      targetCategoryId: null,
      storageLocation: name,
      packageSha256: read.packageSha256,
      mbzBytes: BigInt(mbz.bytes),
      mbzSha256: mbz.sha256,
      // Whether the source was deleted is not in the package: a session finds out (and re-archives a source still there).
      verified: true,
      sourceDeleted: false,
      preparedAt: null,
      backedUpAt: null,
      transportedAt: null,
      restoredAt: null,
      verifiedAt: new Date(),
      cleanedAt: new Date(m.createdAt),
      retentionUntil: m.retentionUntil ? new Date(m.retentionUntil) : null,
      expiredAt: null,
    });
    await catalog.appendLedger({
      entryKey: `rebuilt/${storageId}/${name}/${read.packageSha256}`,
      event: 'rebuilt',
      sessionId: m.session,
      sourceSiteId: m.source.siteId,
      sourceCourseId: m.course.id,
      detail: {
        targetSiteId: storageId,
        storageLocation: name,
        packageSha256: read.packageSha256,
        mbzSha256: mbz.sha256,
        archiveVersion: version,
        retentionUntil: m.retentionUntil ?? undefined,
      },
    });
    report.recorded++;
  }
  // A rebuilt catalog starts a new ledger: its head, kept beside the storage, is the one later checks reach.
  appendFileSync(join(storage.path, LEDGER_HEADS_FILE), catalog.headLine(await catalog.ledgerHead(), { rebuilt: storageId }));
  return report;
}
