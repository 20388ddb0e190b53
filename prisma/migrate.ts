// Applies the committed Prisma migrations at start-up, keeping Prisma's own
// _prisma_migrations table (same columns, sha256 checksums), because
// `prisma migrate deploy` needs a schema engine these machines cannot download.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RawSql {
  $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(sql: string, ...values: unknown[]): Promise<T>;
}

/** Prisma's own bookkeeping table, as its schema engine creates it for each provider. */
const MIGRATIONS_TABLE = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "checksum" TEXT NOT NULL,
    "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL,
    "logs" TEXT,
    "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)`,
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`,
};

export type Provider = keyof typeof MIGRATIONS_TABLE;

export const migrationsDir = (provider: Provider) =>
  // From prisma/ itself, or from dist/ where the CLI and its chunks are bundled (flat: no subfolder): both sit one level under the repository.
  join(fileURLToPath(new URL('../prisma/', import.meta.url)), provider, 'migrations');

/** Splits a migration file into statements (Prisma's SQL has no semicolons inside strings). */
function statements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

type Applied = Map<string, { checksum: string; finished_at: unknown }>;

const appliedMigrations = async (db: RawSql): Promise<Applied> =>
  new Map(
    (
      await db.$queryRawUnsafe<{ migration_name: string; checksum: string; finished_at: unknown }[]>(
        'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
      )
    ).map((m) => [m.migration_name, m]),
  );

/** This release's migrations, in order, each with its SQL and checksum; refuses one applied here that changed since. */
function migrationsOf(dir: string, applied: Applied): { name: string; sql: string; checksum: string; applied: boolean }[] {
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  return names.map((name) => {
    const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
    const checksum = createHash('sha256').update(sql).digest('hex');
    const prior = applied.get(name);
    if (prior) {
      if (prior.checksum !== checksum) {
        throw new Error(
          `Migration ${name} was changed after it was applied to this catalog; restore the original file and add a new migration instead`,
        );
      }
      if (!prior.finished_at) throw new Error(`Migration ${name} started but did not finish; inspect the catalog database before going on`);
    }
    return { name, sql, checksum, applied: Boolean(prior) };
  });
}

/** The migrations this release has that the catalog lacks, changing nothing (what a read-only command checks). */
export async function pendingMigrations(db: RawSql, dir: string): Promise<string[]> {
  let applied: Applied;
  try {
    applied = await appliedMigrations(db);
  } catch (e) {
    // No bookkeeping table (SQLite's words, then PostgreSQL's): nothing was ever applied here.
    if (!/no such table|does not exist/i.test(String((e as Error).message))) throw e;
    applied = new Map();
  }
  return migrationsOf(dir, applied)
    .filter((m) => !m.applied)
    .map((m) => m.name);
}

/** Applies pending migrations in order; refuses one whose file changed after it was applied. */
export async function migrate(db: RawSql, dir: string, provider: Provider = 'sqlite'): Promise<string[]> {
  // Placeholders: "?" for SQLite, "$1" for PostgreSQL.
  const p = (i: number) => (provider === 'postgresql' ? `$${i}` : '?');
  await db.$executeRawUnsafe(MIGRATIONS_TABLE[provider]);
  const done: string[] = [];
  for (const { name, sql, checksum, applied } of migrationsOf(dir, await appliedMigrations(db))) {
    if (applied) continue;
    const id = randomUUID();
    await db.$executeRawUnsafe(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES (${p(1)}, ${p(2)}, ${p(3)}, CURRENT_TIMESTAMP, 0)`,
      id,
      checksum,
      name,
    );
    const steps = statements(sql);
    for (const stmt of steps) await db.$executeRawUnsafe(stmt);
    await db.$executeRawUnsafe(
      `UPDATE "_prisma_migrations" SET finished_at = CURRENT_TIMESTAMP, applied_steps_count = ${p(1)} WHERE id = ${p(2)}`,
      steps.length,
      id,
    );
    done.push(name);
  }
  return done;
}
