/**
 * The database of one integration suite, by kind: SQLite is a file under the suite's data
 * directory (no URL needed); PostgreSQL is a throwaway database (test/helpers/postgres.ts) named by
 * `env.DATABASE_URL` and removed by `drop()`. Which kinds a suite runs: `databaseKinds` there.
 */
import { createTestDatabase } from "./postgres.js";

export type DbKind = "sqlite" | "postgres";

export interface TestDatabase {
  /** What the server's environment needs for it: `DATABASE_URL` for PostgreSQL, nothing for SQLite. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function testDatabase(kind: DbKind): Promise<TestDatabase> {
  if (kind === "sqlite") return { env: {}, drop: async () => undefined };
  const t = await createTestDatabase();
  return { env: { DATABASE_URL: t.url }, drop: t.drop };
}
