import fs from "node:fs";
import path from "node:path";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import type { Database } from "./schema.js";

export type DialectName = "sqlite" | "postgres";

export interface Db {
  db: Kysely<Database>;
  dialect: DialectName;
}

/**
 * `url` is a `postgres://` / `postgresql://` URL or a SQLite file path (optionally `sqlite:` / `file:`
 * prefixed). All dialect-specific setup lives here and in the migrations' column types.
 */
export async function createDb(url: string): Promise<Db> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pg = await import("pg");
    const Pool = pg.default.Pool;
    // Keep bigint-ish and numeric values readable; timestamps are text in our schema anyway.
    const pool = new Pool({ connectionString: url, max: 10 });
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: "postgres" };
  }
  const file = url.replace(/^(sqlite|file):(\/\/)?/, "");
  if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const { default: SQLite } = await import("better-sqlite3");
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 10000");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("synchronous = NORMAL");
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: "sqlite" };
}
