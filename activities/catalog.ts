// The archive catalog: one row per archived course, and the ledger, an
// append-only hash chain of what happened to each archive. It outlives
// Temporal's history retention. SQLite by default (libsql driver adapter),
// PostgreSQL when the URL says postgres:// (pg driver adapter).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PrismaClient, ArchivedCourse, LedgerEntry } from '../generated/prisma/sqlite/client';
import { migrate, migrationsDir, pendingMigrations } from '../prisma/migrate';
import { PHASES, phaseIndex, type CatalogPhaseTime, type Phase, type PhaseName } from '../workflows/phases';
import type { CourseFacts } from '../workflows/types';

export type CatalogRow = ArchivedCourse;
export type NewCatalogRow = Omit<ArchivedCourse, 'id' | 'createdAt' | 'updatedAt'>;
export type { LedgerEntry };
export type NewLedgerEntry = Pick<LedgerEntry, 'entryKey' | 'event' | 'sessionId' | 'sourceSiteId' | 'sourceCourseId'> & {
  detail: Record<string, unknown>;
};

/** A verified archive whose session finished with it: a new session skips the course. */
export function archiveIsComplete(row: CatalogRow, deleteSource: boolean): boolean {
  return Boolean(row.verified && row.cleanedAt && !row.expiredAt && (row.sourceDeleted || !deleteSource));
}

/** The catalog as activities: what plans read. `liveFingerprint`: a source course as it is now (undefined: gone). */
export function catalogActivities(catalog: Catalog, liveFingerprint: (siteId: string, courseId: number) => Promise<string | undefined>) {
  return {
    /** Of these source courses, those a session would skip as already archived, with why: as prepare decides, only
     * a course still as its archive found it (an edited one is archived again). */
    async archivedCourses(req: { sourceSiteId: string; courseIds: number[]; deleteSource: boolean }): Promise<Record<number, string>> {
      const out: Record<number, string> = {};
      for (const row of await catalog.findMany(req.sourceSiteId, req.courseIds)) {
        if (!archiveIsComplete(row, req.deleteSource) || !row.sourceFingerprint) continue;
        if ((await liveFingerprint(req.sourceSiteId, row.sourceCourseId)) === row.sourceFingerprint)
          out[row.sourceCourseId] = skipReason(row);
      }
      return out;
    },
  };
}

/** Where an archive is, in words: a course of a Moodle site, or a package in a storage. */
export const archiveLocation = (row: Pick<CatalogRow, 'targetSiteId' | 'targetCourseId' | 'storageLocation'>) =>
  row.storageLocation ? `${row.targetSiteId}:${row.storageLocation}` : `${row.targetSiteId} course ${row.targetCourseId}`;

export const skipReason = (row: CatalogRow) => `already archived by session ${row.sessionId} as ${archiveLocation(row)}`;

/** The hash before the first entry. */
export const GENESIS = '0'.repeat(64);

/** An entry's hash: its predecessor's hash and every field, so that editing any of them shows. */
export function ledgerHash(e: Omit<LedgerEntry, 'hash'>): string {
  const content = JSON.stringify([e.seq, e.at.toISOString(), e.entryKey, e.event, e.sessionId, e.sourceSiteId, e.sourceCourseId, e.detail]);
  return createHash('sha256').update(`${e.prevHash}\n${content}`).digest('hex');
}

export interface LedgerReport {
  entries: number;
  /** The last entry's hash and seq: keep them elsewhere, and a truncated or rewritten tail shows too. */
  head: string;
  seq: number;
  problems: string[];
}

/** What a ledger entry's detail may hold (activities/ledger.ts writes it). */
interface LedgerDetail {
  archiveVersion?: number;
  verified?: boolean;
  mbzSha256?: string;
  packageSha256?: string;
  targetSiteId?: string;
  targetCourseId?: number;
  storageLocation?: string;
  retentionUntil?: string;
  sourceDeleted?: boolean;
}

/** A row as the ledger recorded it (recordArchive, or rebuild), with what happened to it since. */
interface RecordedArchive {
  seq: number;
  targetSiteId: string | null;
  targetCourseId: number | null;
  storageLocation: string | null;
  /** Undefined: not recorded (a rebuild of an older archiver). */
  retentionUntil: string | null | undefined;
  sourceDeleted: boolean;
  expired: boolean;
}

// Each phase that the catalog times names its column in the phase table (Pick: the row must have it).
type CatalogTimes = Pick<CatalogRow, CatalogPhaseTime>;

/** The rows as the Phase interface: a row may or may not name a catalog column. */
const TIMED: readonly (Phase & { name: PhaseName })[] = PHASES;

/** The phase whose step writes the catalog row: it is timed when the row is written. */
const RECORDING_PHASE = TIMED.find((p) => p.steps.some((s) => s.activity === 'recordArchive'))!;

/** Times of phases an earlier run may have done, which a resumed run cannot know. */
const EARLIER_TIMES = new Set<string>(TIMED.flatMap((p) => (p.catalogTime && p !== RECORDING_PHASE ? [p.catalogTime] : [])));

/** The phase times of a row recorded now: each earlier phase's end as the course measured it (null if an
 * earlier run did it), the recording phase now, the later ones not yet. */
export function catalogTimes(phaseTimes: CourseFacts['phaseTimes'], now: Date): CatalogTimes {
  const at = (ms: number | undefined) => (ms ? new Date(ms) : null);
  const recording = phaseIndex(RECORDING_PHASE.name);
  return Object.fromEntries(
    TIMED.flatMap((p) =>
      p.catalogTime
        ? [[p.catalogTime, phaseIndex(p.name) < recording ? at(phaseTimes?.[p.name]?.[1]) : p === RECORDING_PHASE ? now : null]]
        : [],
    ),
  ) as CatalogTimes;
}

/** The catalog could not be read (missing, unreachable, at another release's schema): not the same as a ledger
 * found edited. The CLI ends with its own exit code. */
export class CatalogUnavailable extends Error {}

/** Where the catalog is, for a message: a file's path, or a database's host and name (never its password). */
export function catalogPlace(url: string): string {
  if (url.startsWith('file:')) return url;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.split(':')[0];
  }
}

const catalogTag = (url: string) => createHash('sha256').update(url).digest('hex').slice(0, 12);

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === 'P2002';

export class Catalog {
  /** The Prisma client itself: for maintenance (and the tests that tamper with the ledger). */
  private constructor(
    readonly db: PrismaClient,
    readonly provider: 'sqlite' | 'postgresql',
    /** Which catalog this is, in the ledger heads kept beside the storages (a digest of its URL: no password shows). */
    readonly tag = '',
  ) {}

  /** What a worker that does not serve the main queue holds: any use says where the catalog is. */
  static elsewhere(mainQueue: string): Catalog {
    const refuse = () => {
      throw new Error(`The catalog is reached only by the worker of the main queue (${mainQueue}); this activity ran on a host queue`);
    };
    return new Proxy({}, { get: () => refuse }) as Catalog;
  }

  /**
   * Opens the catalog. The main worker ('write') creates it and applies any pending migration; an operator's
   * read command ('read': find, verify, report, course show) changes nothing: it refuses a catalog that is
   * missing or not at this release's schema, and any failure to reach it is a CatalogUnavailable.
   */
  static async open(url: string, mode: 'write' | 'read' = 'write'): Promise<Catalog> {
    if (mode === 'write') return Catalog.connect(url, mode);
    try {
      return await Catalog.connect(url, mode);
    } catch (e) {
      if (e instanceof CatalogUnavailable) throw e;
      throw new CatalogUnavailable(`catalog.url (${catalogPlace(url)}): cannot be read: ${(e as Error).message}`);
    }
  }

  private static async connect(url: string, mode: 'write' | 'read'): Promise<Catalog> {
    // Each database's client and adapter is loaded only when the catalog is there: the other costs a worker
    // about 30 MB of memory for nothing.
    if (/^postgres(ql)?:\/\//.test(url)) {
      const [{ PrismaClient: PgPrismaClient }, { PrismaPg }] = await Promise.all([
        import('../generated/prisma/postgresql/client'),
        import('@prisma/adapter-pg'),
      ]);
      // Both clients come from the same models: the PostgreSQL one has the same shape.
      const db = new PgPrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as PrismaClient;
      if (mode === 'write') await migrate(db, migrationsDir('postgresql'), 'postgresql');
      else await Catalog.atThisRelease(db, url, 'postgresql');
      return new Catalog(db, 'postgresql', catalogTag(url));
    }
    if (!url.startsWith('file:')) {
      throw new Error(
        `catalog.url (or DATABASE_URL): "${url.split(':')[0]}:" is not supported; use "file:<path>" for SQLite or "postgresql://user:password@host/db"`,
      );
    }
    const path = resolve(url.slice('file:'.length));
    if (mode === 'read' && !existsSync(path))
      throw new CatalogUnavailable(
        `catalog.url (${catalogPlace(url)}): there is no catalog there; the main worker creates it when it starts: check the path, or start the main worker first`,
      );
    if (mode === 'write') mkdirSync(dirname(path), { recursive: true });
    const [{ PrismaClient }, { PrismaLibSql }] = await Promise.all([
      import('../generated/prisma/sqlite/client'),
      import('@prisma/adapter-libsql'),
    ]);
    // intMode bigint: .mbz byte counts can pass 2^53 in principle.
    const db = new PrismaClient({ adapter: new PrismaLibSql({ url: `file:${path}`, intMode: 'bigint' }) });
    // WAL: a commit is one append and one fsync (not a rollback journal's several), and readers (catalog find,
    // report, verify) never wait on a session's writes; synchronous FULL keeps every commit on disk, power cut
    // included: a deletion's ledger entry must outlive the source it deleted. Another process writing waits up to
    // 10 s instead of failing at once.
    // A reader sets only its own wait: the WAL mode is the file's, set by the worker that writes it.
    await db.$queryRawUnsafe('PRAGMA busy_timeout=10000');
    if (mode === 'write') {
      await db.$queryRawUnsafe('PRAGMA journal_mode=WAL');
      await db.$queryRawUnsafe('PRAGMA synchronous=FULL');
      await migrate(db, migrationsDir('sqlite'), 'sqlite');
    } else await Catalog.atThisRelease(db, url, 'sqlite');
    return new Catalog(db, 'sqlite', catalogTag(`file:${path}`));
  }

  /** A reader's check: the catalog has every migration of this release (else its queries would fail midway). */
  private static async atThisRelease(db: PrismaClient, url: string, provider: 'sqlite' | 'postgresql') {
    const pending = await pendingMigrations(db, migrationsDir(provider));
    if (pending.length)
      throw new CatalogUnavailable(
        `catalog.url (${catalogPlace(url)}): the catalog lacks this release's migrations (${pending.join(', ')}); the main worker of this release applies them when it starts: start it, then run this again`,
      );
  }

  /** The latest verified archive of a source course, if one exists (an expired one is gone). */
  findVerified(sourceSiteId: string, sourceCourseId: number): Promise<CatalogRow | null> {
    return this.db.archivedCourse.findFirst({
      where: { sourceSiteId, sourceCourseId, verified: true, expiredAt: null },
      orderBy: { version: 'desc' },
    });
  }

  /** The latest archive version of a source course, whatever its state. */
  find(sourceSiteId: string, sourceCourseId: number): Promise<CatalogRow | null> {
    return this.db.archivedCourse.findFirst({ where: { sourceSiteId, sourceCourseId }, orderBy: { version: 'desc' } });
  }

  /** Every archive version of a source course, oldest first. */
  versions(sourceSiteId: string, sourceCourseId: number): Promise<CatalogRow[]> {
    return this.db.archivedCourse.findMany({ where: { sourceSiteId, sourceCourseId }, orderBy: { version: 'asc' } });
  }

  /** Records (or completes) one archive version of a course; idempotent for a retried activity.
   * A resumed run does not know the times of what earlier runs did: those it leaves null keep
   * their recorded value. Everything else is as this run says (a new archive is not expired, a
   * package has no target course). */
  async record(row: NewCatalogRow): Promise<CatalogRow> {
    const key = {
      sourceSiteId_sourceCourseId_version: { sourceSiteId: row.sourceSiteId, sourceCourseId: row.sourceCourseId, version: row.version },
    };
    const update = Object.fromEntries(Object.entries(row).filter(([k, v]) => v !== null || !EARLIER_TIMES.has(k)));
    return this.db.archivedCourse.upsert({ where: key, create: row, update });
  }

  async markCleaned(sourceSiteId: string, sourceCourseId: number, version: number, sourceDeleted: boolean, at: Date): Promise<void> {
    await this.db.archivedCourse.update({
      where: { sourceSiteId_sourceCourseId_version: { sourceSiteId, sourceCourseId, version } },
      data: { sourceDeleted, cleanedAt: at },
    });
  }

  /** The latest archive version of each of these source courses. */
  async findMany(sourceSiteId: string, sourceCourseIds: number[]): Promise<CatalogRow[]> {
    const rows = await this.db.archivedCourse.findMany({
      where: { sourceSiteId, sourceCourseId: { in: sourceCourseIds } },
      orderBy: { version: 'asc' },
    });
    return [...new Map(rows.map((r) => [r.sourceCourseId, r])).values()];
  }

  listSession(sessionId: string): Promise<CatalogRow[]> {
    return this.db.archivedCourse.findMany({ where: { sessionId }, orderBy: { sourceCourseId: 'asc' } });
  }

  byId(id: number): Promise<CatalogRow | null> {
    return this.db.archivedCourse.findUnique({ where: { id } });
  }

  /**
   * "Where is course X now": a source id ("12" or "prod:12"), else a shortname or idnumber
   * (any case), else words that all occur in the full name. Read in full and matched here,
   * so that SQLite and PostgreSQL match alike.
   */
  async search(query: string): Promise<CatalogRow[]> {
    const q = query.trim();
    const id = /^(?:([a-z][a-z0-9_-]*):)?(\d+)$/.exec(q);
    if (id) {
      return this.db.archivedCourse.findMany({
        where: { sourceCourseId: Number(id[2]), ...(id[1] ? { sourceSiteId: id[1] } : {}) },
        orderBy: [{ sourceSiteId: 'asc' }, { version: 'asc' }],
      });
    }
    const rows = await this.db.archivedCourse.findMany({
      orderBy: [{ sourceSiteId: 'asc' }, { sourceCourseId: 'asc' }, { version: 'asc' }],
    });
    const lower = q.toLowerCase();
    const exact = rows.filter((r) => r.shortname.toLowerCase() === lower || (r.idnumber && r.idnumber.toLowerCase() === lower));
    if (exact.length) return exact;
    // The start of a shortname or idnumber ("hist1" for HIST101-2024), in any case: what an operator remembers.
    const prefixed = rows.filter((r) => r.shortname.toLowerCase().startsWith(lower) || r.idnumber?.toLowerCase().startsWith(lower));
    if (prefixed.length) return prefixed;
    const words = lower.split(/\s+/).filter(Boolean);
    return rows.filter((r) => words.every((w) => r.fullname.toLowerCase().includes(w)));
  }

  /** Archives whose retention has passed and that are still there. */
  dueForExpiry(now: Date): Promise<CatalogRow[]> {
    return this.db.archivedCourse.findMany({
      where: { retentionUntil: { lte: now }, expiredAt: null, verified: true },
      orderBy: { retentionUntil: 'asc' },
    });
  }

  async markExpired(id: number, at: Date): Promise<void> {
    await this.db.archivedCourse.update({ where: { id }, data: { expiredAt: at } });
  }

  /**
   * Takes the course for `holder` (a course workflow id), or says who holds it: free, already this holder's, or
   * taken over from `takeOverFrom` (a holder the caller found no longer running), in one statement each, so that two
   * runs racing for it cannot both win.
   */
  async acquireLease(sourceSiteId: string, sourceCourseId: number, holder: string, takeOverFrom?: string): Promise<string> {
    const key = { sourceSiteId_sourceCourseId: { sourceSiteId, sourceCourseId } };
    try {
      await this.db.courseLease.create({ data: { sourceSiteId, sourceCourseId, holder, since: new Date() } });
      return holder;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    if (takeOverFrom) {
      const taken = await this.db.courseLease.updateMany({
        where: { sourceSiteId, sourceCourseId, holder: takeOverFrom },
        data: { holder, since: new Date() },
      });
      if (taken.count) return holder;
    }
    const row = await this.db.courseLease.findUnique({ where: key });
    // Let go meanwhile: try once more from the start.
    return row ? row.holder : this.acquireLease(sourceSiteId, sourceCourseId, holder);
  }

  async releaseLease(sourceSiteId: string, sourceCourseId: number, holder: string): Promise<void> {
    await this.db.courseLease.deleteMany({ where: { sourceSiteId, sourceCourseId, holder } });
  }

  private appending: Promise<unknown> = Promise.resolve();

  /** Appends an entry to the ledger, one at a time in this process: twenty courses racing
   * for the tail in one worker would only make each other try again. */
  appendLedger(entry: NewLedgerEntry): Promise<LedgerEntry> {
    const appended = this.appending.then(() => this.appendRacing(entry));
    this.appending = appended.catch(() => undefined);
    return appended;
  }

  /**
   * Writers in other processes race for the next seq: the loser's insert fails on
   * the seq (or prevHash) uniqueness and it tries again on the new tail. An entry
   * key already written (a retried activity) is not written twice.
   */
  private async appendRacing(entry: NewLedgerEntry): Promise<LedgerEntry> {
    const detail = JSON.stringify(entry.detail);
    for (let attempt = 0; ; attempt++) {
      const last = await this.db.ledgerEntry.findFirst({ orderBy: { seq: 'desc' } });
      const row = { ...entry, detail, seq: (last?.seq ?? 0) + 1, at: new Date(), prevHash: last?.hash ?? GENESIS };
      try {
        return await this.db.ledgerEntry.create({ data: { ...row, hash: ledgerHash(row) } });
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        const existing = await this.db.ledgerEntry.findUnique({ where: { entryKey: entry.entryKey } });
        if (existing) return existing;
        if (attempt > 100) throw new Error(`ledger: could not append after ${attempt} tries: too many writers at once`);
        await new Promise((r) => setTimeout(r, Math.random() * 20));
      }
    }
  }

  ledgerOf(sourceSiteId: string, sourceCourseId: number): Promise<LedgerEntry[]> {
    return this.db.ledgerEntry.findMany({ where: { sourceSiteId, sourceCourseId }, orderBy: { seq: 'asc' } });
  }

  /**
   * Walks the whole chain: an edited entry no longer matches its hash, a removed one leaves a
   * gap in seq, a replaced one breaks its successor's link. Then each catalog row is compared
   * with what the ledger recorded of its archive version: the checksums at its verification, and
   * every field a later decision reads (where the archive is, until when it is kept, whether the
   * source was deleted, whether it was verified or expired). A row the ledger recorded and the
   * catalog no longer has is named too. `head`: a head kept elsewhere (a session's end notice, its
   * report), which a cut-off tail no longer reaches.
   */
  async verifyLedger(head?: { seq: number; hash: string }): Promise<LedgerReport> {
    const problems: string[] = [];
    let prev = GENESIS;
    let expected = 1;
    let entries = 0;
    let headFound = false;
    const verifiedSha = new Map<string, { mbzSha256?: string; packageSha256?: string }>();
    const recorded = new Map<string, RecordedArchive>();
    /** The archive version each course's entries are about: the last one an entry named. */
    const versionOf = new Map<string, number>();
    for (let after = 0; ;) {
      const batch = await this.db.ledgerEntry.findMany({ where: { seq: { gt: after } }, orderBy: { seq: 'asc' }, take: 1000 });
      if (!batch.length) break;
      for (const e of batch) {
        const what = `entry ${e.seq} (${e.event}, ${e.sourceSiteId} course ${e.sourceCourseId})`;
        if (e.seq !== expected)
          problems.push(
            `${e.seq - 1 > expected ? `entries ${expected}-${e.seq - 1} are` : `entry ${expected} is`} missing: removed from the ledger`,
          );
        else if (e.prevHash !== prev) problems.push(`${what} does not follow entry ${e.seq - 1}: one of them was replaced`);
        if (ledgerHash(e) !== e.hash) problems.push(`${what} was edited: its content no longer matches its hash`);
        if (head && e.seq === head.seq) {
          headFound = true;
          if (e.hash !== head.hash)
            problems.push(`entry ${e.seq} is not the head recorded elsewhere (${head.hash}): the tail was rewritten`);
        }
        const course = `${e.sourceSiteId}:${e.sourceCourseId}`;
        const d = JSON.parse(e.detail) as LedgerDetail;
        if (d.archiveVersion) versionOf.set(course, d.archiveVersion);
        const key = `${course}:${versionOf.get(course) ?? 1}`;
        if ((e.event === 'verifyArchive' && d.verified !== false && d.mbzSha256) || e.event === 'rebuilt') verifiedSha.set(key, d);
        const r = recorded.get(key);
        if (e.event === 'recordArchive' || e.event === 'rebuilt')
          recorded.set(key, {
            seq: e.seq,
            targetSiteId: d.targetSiteId ?? null,
            targetCourseId: d.targetCourseId ?? null,
            storageLocation: d.storageLocation ?? null,
            retentionUntil: e.event === 'rebuilt' && d.retentionUntil === undefined ? undefined : (d.retentionUntil ?? null),
            sourceDeleted: false,
            expired: false,
          });
        else if (r && e.event === 'deleteSourceCourse' && d.sourceDeleted !== undefined) r.sourceDeleted = d.sourceDeleted;
        else if (r && e.event === 'expired') r.expired = true;
        prev = e.hash;
        expected = e.seq + 1;
        entries++;
        after = e.seq;
      }
    }
    if (head && !headFound)
      problems.push(
        `the ledger ends at entry ${expected - 1}, but entry ${head.seq} (${head.hash}) was recorded elsewhere: its tail was cut off`,
      );
    const seen = new Set<string>();
    for (let after = 0; ;) {
      const rows = await this.db.archivedCourse.findMany({ where: { id: { gt: after } }, orderBy: { id: 'asc' }, take: 1000 });
      if (!rows.length) break;
      for (const r of rows) {
        after = r.id;
        const key = `${r.sourceSiteId}:${r.sourceCourseId}:${r.version}`;
        seen.add(key);
        const course = `catalog row of ${r.sourceSiteId} course ${r.sourceCourseId}${r.version > 1 ? ` (version ${r.version})` : ''}`;
        const v = verifiedSha.get(key);
        if (r.verified) {
          if (!v) problems.push(`${course} is marked verified, but the ledger has no verification of it`);
          else if (v.mbzSha256 !== r.mbzSha256) problems.push(`${course} says sha256 ${r.mbzSha256}, the ledger recorded ${v.mbzSha256}`);
          else if ((v.packageSha256 ?? null) !== r.packageSha256)
            problems.push(`${course} says package sha256 ${r.packageSha256}, the ledger recorded ${v.packageSha256}`);
        }
        const rec = recorded.get(key);
        if (!rec) continue;
        const says = (field: string, row: unknown, ledger: unknown) => {
          if (row !== ledger) problems.push(`${course} says ${field} ${String(row)}, the ledger recorded ${String(ledger)}`);
        };
        if (!r.verified) says('verified', false, true);
        says('target', r.targetSiteId, rec.targetSiteId);
        says('target course', r.targetCourseId, rec.targetCourseId);
        says('location', r.storageLocation, rec.storageLocation);
        if (rec.retentionUntil !== undefined) says('kept until', r.retentionUntil?.toISOString() ?? null, rec.retentionUntil);
        says('source deleted', r.sourceDeleted, rec.sourceDeleted);
        says('expired', Boolean(r.expiredAt), rec.expired);
      }
    }
    for (const [key, rec] of recorded)
      if (!seen.has(key)) {
        const [site, id, version] = key.split(':');
        problems.push(
          `catalog row of ${site} course ${id}${version !== '1' ? ` (version ${version})` : ''} was removed: the ledger recorded it at entry ${rec.seq}`,
        );
      }
    return { entries, head: prev, seq: expected - 1, problems };
  }

  /** The ledger's last entry: kept elsewhere (a session's end notice and report), it shows a cut-off tail later. */
  async ledgerHead(): Promise<{ seq: number; hash: string }> {
    const last = await this.db.ledgerEntry.findFirst({ orderBy: { seq: 'desc' } });
    return { seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS };
  }

  /** A line of a storage's ledger heads file: this catalog's head. */
  headLine(head: { seq: number; hash: string }, extra: Record<string, string>): string {
    return `${JSON.stringify({ at: new Date().toISOString(), catalog: this.tag, ...extra, ...head })}\n`;
  }

  /** The last head this catalog kept in a storage's ledger heads file (another catalog's lines are not its own). */
  keptHead(fileText: string): { seq: number; hash: string } | undefined {
    let head: { seq: number; hash: string } | undefined;
    for (const line of fileText.split('\n').filter(Boolean)) {
      const h = JSON.parse(line) as { catalog?: string; seq: number; hash: string };
      if (h.catalog === this.tag && Number.isInteger(h.seq) && /^[0-9a-f]{64}$/.test(h.hash)) head = { seq: h.seq, hash: h.hash };
    }
    return head;
  }

  close(): Promise<void> {
    return this.db.$disconnect();
  }
}
