// The archive catalog: one row per archived course, the ledger that outlives
// Temporal's history retention. SQLite by default (libsql driver adapter).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaLibSql } from '@prisma/adapter-libsql';
import { PrismaClient, type ArchivedCourse } from '../generated/prisma/sqlite/client';
import { migrate, migrationsDir } from '../prisma/migrate';

export type CatalogRow = ArchivedCourse;
export type NewCatalogRow = Omit<ArchivedCourse, 'id' | 'createdAt' | 'updatedAt'>;

/** A verified archive whose session finished with it: a new session skips the course. */
export function archiveIsComplete(row: CatalogRow, deleteSource: boolean): boolean {
  return Boolean(row.verified && row.cleanedAt && (row.sourceDeleted || !deleteSource));
}

/** The catalog as activities: what plans read. */
export function catalogActivities(catalog: Catalog) {
  return {
    /** Of these source courses, those a session would skip as already archived, with why. */
    async archivedCourses(req: { sourceSiteId: string; courseIds: number[]; deleteSource: boolean }): Promise<Record<number, string>> {
      const out: Record<number, string> = {};
      for (const row of await catalog.findMany(req.sourceSiteId, req.courseIds)) {
        if (archiveIsComplete(row, req.deleteSource)) out[row.sourceCourseId] = skipReason(row);
      }
      return out;
    },
  };
}

export const skipReason = (row: CatalogRow) => `already archived by session ${row.sessionId} as ${row.targetSiteId} course ${row.targetCourseId}`;

export class Catalog {
  private constructor(private readonly db: PrismaClient) {}

  /** Opens the catalog and applies any pending migration. */
  static async open(url: string): Promise<Catalog> {
    if (!url.startsWith('file:')) {
      throw new Error(`catalog.url: only SQLite "file:" URLs are supported yet, got "${url.split(':')[0]}:"`);
    }
    const path = resolve(url.slice('file:'.length));
    mkdirSync(dirname(path), { recursive: true });
    // intMode bigint: .mbz byte counts can pass 2^53 in principle.
    const db = new PrismaClient({ adapter: new PrismaLibSql({ url: `file:${path}`, intMode: 'bigint' }) });
    await migrate(db, migrationsDir('sqlite'));
    return new Catalog(db);
  }

  /** The verified archive of a source course, if one exists. */
  findVerified(sourceSiteId: string, sourceCourseId: number): Promise<CatalogRow | null> {
    return this.db.archivedCourse.findFirst({ where: { sourceSiteId, sourceCourseId, verified: true } });
  }

  find(sourceSiteId: string, sourceCourseId: number): Promise<CatalogRow | null> {
    return this.db.archivedCourse.findUnique({ where: { sourceSiteId_sourceCourseId: { sourceSiteId, sourceCourseId } } });
  }

  /** Records (or completes) the archive of a course; idempotent for a retried activity.
   * A resumed run does not know every earlier time: what it leaves null keeps its recorded value. */
  async record(row: NewCatalogRow): Promise<CatalogRow> {
    const key = { sourceSiteId_sourceCourseId: { sourceSiteId: row.sourceSiteId, sourceCourseId: row.sourceCourseId } };
    const update = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null));
    return this.db.archivedCourse.upsert({ where: key, create: row, update });
  }

  async markCleaned(sourceSiteId: string, sourceCourseId: number, sourceDeleted: boolean, at: Date): Promise<void> {
    await this.db.archivedCourse.update({
      where: { sourceSiteId_sourceCourseId: { sourceSiteId, sourceCourseId } },
      data: { sourceDeleted, cleanedAt: at },
    });
  }

  findMany(sourceSiteId: string, sourceCourseIds: number[]): Promise<CatalogRow[]> {
    return this.db.archivedCourse.findMany({ where: { sourceSiteId, sourceCourseId: { in: sourceCourseIds } } });
  }

  listSession(sessionId: string): Promise<CatalogRow[]> {
    return this.db.archivedCourse.findMany({ where: { sessionId }, orderBy: { sourceCourseId: 'asc' } });
  }

  close(): Promise<void> {
    return this.db.$disconnect();
  }
}
