// Prisma 7 reads this for `prisma generate`. Migrations are applied by our own
// runner (prisma/migrate.ts), because Prisma's schema engine is a download
// these machines cannot make.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/sqlite',
  migrations: { path: 'prisma/sqlite/migrations' },
});
