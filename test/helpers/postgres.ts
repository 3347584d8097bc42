/**
 * PostgreSQL for integration tests: one throwaway database per suite, dropped afterwards.
 *
 * Where no PostgreSQL answers, the PostgreSQL variants of the suites are skipped *by name and
 * loudly* (a warning naming each suite); `KAKUNIN_REQUIRE_PG=1` (set by `.ci/run`) turns a missing
 * PostgreSQL into a failure instead.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

/** Admin connection string; the CI machine has trust auth on 127.0.0.1:5432. */
export const PG_ADMIN_URL = process.env.KAKUNIN_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

let availability: Promise<boolean> | undefined;

/** Whether a PostgreSQL server answers at {@link PG_ADMIN_URL} (checked once per process). */
export function postgresAvailable(): Promise<boolean> {
  availability ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query("select 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return availability;
}

/**
 * Resolves whether the PostgreSQL variant of `suite` should run. Throws when PostgreSQL is required
 * (`KAKUNIN_REQUIRE_PG=1`) but absent; otherwise warns, naming the suite, and returns false.
 */
export async function shouldRunPostgres(suite: string): Promise<boolean> {
  if (await postgresAvailable()) return true;
  if (process.env.KAKUNIN_REQUIRE_PG === "1") {
    throw new Error(`KAKUNIN_REQUIRE_PG=1 but no PostgreSQL answers at ${PG_ADMIN_URL} (suite: ${suite})`);
  }
  console.warn(
    `\n⚠ SKIPPED [postgres] ${suite}: no PostgreSQL at ${PG_ADMIN_URL} (set KAKUNIN_REQUIRE_PG=1 to fail instead)\n`,
  );
  return false;
}

/** A fresh database for one suite. `drop()` terminates its connections and removes it. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `kakunin_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The database kinds an integration suite runs against: SQLite always, PostgreSQL when available. */
export async function databaseKinds(suite: string): Promise<Array<"sqlite" | "postgres">> {
  return (await shouldRunPostgres(suite)) ? ["sqlite", "postgres"] : ["sqlite"];
}
