// The catalog suite, on SQLite and on a real PostgreSQL started here: rows,
// "where is course X", retention, and the ledger's hash chain, which a
// verification walks to find any edited, removed or replaced entry.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, CatalogUnavailable, GENESIS, type NewCatalogRow } from '../activities/catalog';
import { migrationsDir } from '../prisma/migrate';
import { startPostgres, type RunningPostgres } from './postgres';

const row = (id: number, over: Partial<NewCatalogRow> = {}): NewCatalogRow => ({
  sessionId: 's1',
  vintage: '2024-2025',
  sourceSiteId: 'prod',
  sourceCourseId: id,
  version: 1,
  sourceFingerprint: null,
  shortname: `HIST${id}-2024-2025`,
  fullname: `History of Europe ${id} (2024-2025)`,
  idnumber: `HIST${id}-20242025`,
  sourceCategoryId: 3,
  categoryPath: 'Year 2024-2025 / Semester 1',
  targetSiteId: 'cold',
  targetCourseId: null,
  targetCategoryId: null,
  storageLocation: `prod/2024-2025/${id}-HIST${id}.tar`,
  packageSha256: 'b'.repeat(64),
  mbzBytes: 5_000_000_000n,
  mbzSha256: 'a'.repeat(64),
  verified: true,
  sourceDeleted: true,
  preparedAt: null,
  backedUpAt: null,
  transportedAt: null,
  restoredAt: null,
  verifiedAt: new Date(),
  cleanedAt: new Date(),
  retentionUntil: new Date('2031-09-01T00:00:00Z'),
  expiredAt: null,
  ...over,
});

/** Appends the verification entry a postprocess step writes, as the catalog rows' witness. */
const verification = (catalog: Catalog, id: number, key = `run/${id}`) =>
  catalog.appendLedger({
    entryKey: key,
    event: 'verifyArchive',
    sessionId: 's1',
    sourceSiteId: 'prod',
    sourceCourseId: id,
    detail: { verified: true, mbzSha256: 'a'.repeat(64), packageSha256: 'b'.repeat(64) },
  });

describe.each(['sqlite', 'postgresql'] as const)('the catalog on %s', (provider) => {
  let catalog: Catalog;
  let pg: RunningPostgres | undefined;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'archiver-catalog-'));
    if (provider === 'postgresql') pg = await startPostgres();
    url = pg ? pg.url : `file:${join(dir, 'catalog.sqlite')}`;
    catalog = await Catalog.open(url);
    expect(catalog.provider).toBe(provider);
    // Opening again finds every migration applied and changes nothing.
    await (await Catalog.open(url)).close();
  });
  afterAll(async () => {
    await catalog?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records archives (byte sizes past 2^32) and finds them by source id, shortname, idnumber or words of the name', async () => {
    for (const id of [11, 12, 13]) await catalog.record(row(id));
    await catalog.record(row(14, { sourceSiteId: 'other', fullname: 'Organic Chemistry (2024-2025)', shortname: 'CHEM14', idnumber: '' }));
    expect((await catalog.find('prod', 12))?.mbzBytes).toBe(5_000_000_000n);
    expect((await catalog.search('12')).map((r) => r.sourceCourseId)).toEqual([12]);
    expect((await catalog.search('other:14')).map((r) => r.shortname)).toEqual(['CHEM14']);
    expect((await catalog.search('hist13-2024-2025')).map((r) => r.sourceCourseId)).toEqual([13]);
    expect((await catalog.search('HIST11-20242025')).map((r) => r.sourceCourseId)).toEqual([11]);
    // The start of a shortname, any case: every course it starts.
    expect((await catalog.search('hist1')).map((r) => r.sourceCourseId)).toEqual([11, 12, 13]);
    expect((await catalog.search('Hist12-')).map((r) => r.sourceCourseId)).toEqual([12]);
    expect((await catalog.search('chem')).map((r) => r.shortname)).toEqual(['CHEM14']);
    expect((await catalog.search('europe history')).map((r) => r.sourceCourseId)).toEqual([11, 12, 13]);
    expect((await catalog.search('organic chemistry')).map((r) => r.sourceCourseId)).toEqual([14]);
    expect(await catalog.search('astronomy')).toEqual([]);
  });

  it('lists what is due for expiry at a date, and not what expired already', async () => {
    await catalog.record(row(15, { retentionUntil: new Date('2027-01-01T00:00:00Z') }));
    expect((await catalog.dueForExpiry(new Date('2026-12-31T00:00:00Z'))).map((r) => r.sourceCourseId)).toEqual([]);
    expect((await catalog.dueForExpiry(new Date('2027-06-01T00:00:00Z'))).map((r) => r.sourceCourseId)).toEqual([15]);
    expect((await catalog.dueForExpiry(new Date('2032-01-01T00:00:00Z'))).map((r) => r.sourceCourseId).sort()).toEqual([
      11, 12, 13, 14, 15,
    ]);
    await catalog.markExpired((await catalog.find('prod', 15))!.id, new Date());
    expect(await catalog.dueForExpiry(new Date('2027-06-01T00:00:00Z'))).toEqual([]);
    // Gone: a session archives the course again (if its source is still there), and the new archive is not expired.
    expect(await catalog.findVerified('prod', 15)).toBeNull();
    await catalog.record(row(15, { retentionUntil: new Date('2032-01-01T00:00:00Z') }));
    expect(await catalog.findVerified('prod', 15)).toMatchObject({ expiredAt: null });
  });

  it('keeps the ledger one chain under 40 writers at once on four connections, and writes a retried entry once', async () => {
    for (const id of [11, 12, 13, 15]) await verification(catalog, id);
    await catalog.appendLedger({
      entryKey: 'run/14',
      event: 'verifyArchive',
      sessionId: 's1',
      sourceSiteId: 'other',
      sourceCourseId: 14,
      detail: { mbzSha256: 'a'.repeat(64), packageSha256: 'b'.repeat(64) },
    });
    // One connection appends one entry at a time; four race for the tail, as four processes would.
    const writers = [catalog, ...(await Promise.all([1, 2, 3].map(() => Catalog.open(url))))];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        writers[i % 4].appendLedger({
          entryKey: `burst/${i}`,
          event: 'transportBackup',
          sessionId: 's1',
          sourceSiteId: 'prod',
          sourceCourseId: 100 + i,
          detail: { mbzSha256: `${i}` },
        }),
      ),
    );
    for (const other of writers.slice(1)) await other.close();
    const again = await verification(catalog, 11); // same key: the entry already there
    expect(again.seq).toBe(1);
    const report = await catalog.verifyLedger();
    expect(report).toMatchObject({ entries: 45, problems: [] });
    const all = await catalog.db.ledgerEntry.findMany({ orderBy: { seq: 'asc' } });
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(all[0].prevHash).toBe(GENESIS);
    expect(report.head).toBe(all[44].hash);
  });

  it('a reader (find, verify, report) reads while a writer holds a transaction open, and changes nothing where it cannot read', async () => {
    const reader = await Catalog.open(url, 'read');
    try {
      // A session's write, held open until the reader has its answer: a reader that waited for it would never answer.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let writing!: () => void;
      const begun = new Promise<void>((r) => (writing = r));
      const id = (await catalog.find('prod', 11))!.id;
      const writer = catalog.db.$transaction(
        async (tx) => {
          await tx.archivedCourse.update({ where: { id }, data: { shortname: 'HIST11-RENAMED' } });
          writing();
          await held;
        },
        { timeout: 60_000 },
      );
      await begun;
      expect((await reader.search('12')).map((r) => r.sourceCourseId)).toEqual([12]);
      // It sees the catalog as last committed.
      expect((await reader.find('prod', 11))?.shortname).toBe('HIST11-2024-2025');
      release();
      await writer;
      expect((await reader.find('prod', 11))?.shortname).toBe('HIST11-RENAMED');
    } finally {
      await reader.close();
    }

    // Nowhere to read: the reader says so, as a CatalogUnavailable (its own exit code), and creates nothing.
    const missing = pg
      ? pg.url.replace(/:(\d+)\//, (_m, port: string) => `:${Number(port) + 1}/`)
      : `file:${join(dir, 'none', 'catalog.sqlite')}`;
    await expect(Catalog.open(missing, 'read')).rejects.toBeInstanceOf(CatalogUnavailable);
    if (!pg) expect(existsSync(join(dir, 'none'))).toBe(false);

    // A catalog without this release's migrations: refused, naming them, and still without them after.
    const empty = pg ? pg.url.replace(/\/catalog$/, '/unmigrated') : `file:${join(dir, 'unmigrated.sqlite')}`;
    if (pg) await catalog.db.$executeRawUnsafe('CREATE DATABASE unmigrated');
    else writeFileSync(join(dir, 'unmigrated.sqlite'), '');
    const all = readdirSync(migrationsDir(provider), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    // Twice: had the first reader applied any, the second would name fewer.
    for (let i = 0; i < 2; i++)
      await expect(Catalog.open(empty, 'read')).rejects.toThrow(
        `lacks this release's migrations (${all.join(', ')}); the main worker of this release applies them when it starts`,
      );
    await (await Catalog.open(empty)).close();
    await (await Catalog.open(empty, 'read')).close();
  });

  it('finds an edited entry, a removed one, a replaced one, and a catalog row that disagrees with the ledger', async () => {
    await catalog.db.ledgerEntry.update({ where: { seq: 20 }, data: { detail: JSON.stringify({ mbzSha256: 'forged' }) } });
    await catalog.db.ledgerEntry.delete({ where: { seq: 30 } });
    await catalog.db.archivedCourse.update({
      where: { sourceSiteId_sourceCourseId_version: { sourceSiteId: 'prod', sourceCourseId: 12, version: 1 } },
      data: { mbzSha256: 'c'.repeat(64) },
    });
    const { problems } = await catalog.verifyLedger();
    expect(problems).toEqual([
      expect.stringMatching(/^entry 20 \(transportBackup, prod course \d+\) was edited/),
      'entry 30 is missing: removed from the ledger',
      `catalog row of prod course 12 says sha256 ${'c'.repeat(64)}, the ledger recorded ${'a'.repeat(64)}`,
    ]);
    // Rewriting an entry with a freshly computed hash still breaks its successor's link.
    const e = (await catalog.db.ledgerEntry.findUnique({ where: { seq: 40 } }))!;
    const { ledgerHash } = await import('../activities/catalog');
    const forged = { ...e, detail: '{"mbzSha256":"forged"}' };
    await catalog.db.ledgerEntry.update({ where: { seq: 40 }, data: { detail: forged.detail, hash: ledgerHash(forged) } });
    expect((await catalog.verifyLedger()).problems).toContainEqual(expect.stringMatching(/^entry 41 \(.*\) does not follow entry 40/));
  });
});
