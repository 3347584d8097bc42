/**
 * A migrated database of one kind for store contract tests, opened in the test's process: a file
 * under a temporary directory for SQLite, a throwaway database for PostgreSQL.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type Db } from "../../server/db/connect.js";
import { migrate } from "../../server/db/migrations/index.js";
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
