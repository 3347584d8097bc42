/**
 * A migrated database of one kind for store contract tests, opened in the test's process: a file
 * under a temporary directory for SQLite, a throwaway database for PostgreSQL.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { createDb, type Db } from "../../server/db/connect.js";
import { migrate } from "../../server/db/migrations/index.js";
import { KyselyLogStore } from "../../server/log/storage/kysely-store.js";
import { createTestDatabase } from "./postgres.js";

export async function migratedDb(
  kind: "sqlite" | "postgres",
): Promise<{ handle: Db; /** what createDb takes to open it again */ url: string; close(): Promise<void> }> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (kind === "postgres") {
    const pg = await createTestDatabase();
    url = pg.url;
    cleanup = pg.drop;
  } else {
    const dir = await mkdtemp(join(tmpdir(), "kakunin-store-"));
    url = join(dir, "t.db");
    cleanup = () => rm(dir, { recursive: true, force: true });
  }
  const handle = await createDb(url);
  await migrate(handle);
  return {
    handle,
    url,
    async close() {
      await handle.close();
      await cleanup();
    },
  };
}

/**
 * A migrated database with a `KyselyLogStore` over it and the given issuers inserted (entries
 * reference them): the set-up of the log store, tree and fork-guard suites.
 */
export async function migratedLogStore(
  kind: "sqlite" | "postgres",
  issuers: readonly string[],
): Promise<{ handle: Db; store: KyselyLogStore; raw: Kysely<any>; close(): Promise<void> }> {
  const opened = await migratedDb(kind);
  const raw = opened.handle.db as unknown as Kysely<any>;
  if (issuers.length > 0)
    await raw
      .insertInto("issuers")
      .values(issuers.map((id) => ({ id, name: id, created_at: "x" })))
      .execute();
  return { handle: opened.handle, store: new KyselyLogStore(opened.handle), raw, close: opened.close };
}
