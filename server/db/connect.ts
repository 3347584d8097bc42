import path from "node:path";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import type { Database } from "./schema.js";
import { deferredWalSync, synchronousCommits, type CommitDurability } from "./durability.js";
import { WalSync } from "./wal-sync.js";
import { ensurePrivateDir, ensurePrivateFile, tightenIfPresent } from "./private-files.js";

export type DialectName = "sqlite" | "postgres";

export interface Db {
  db: Kysely<Database>;
  dialect: DialectName;
  /**
   * Run `fn` (the migrator) while holding a cross-process lock, so instances starting at the same
   * moment migrate one after another. PostgreSQL: a session-level advisory lock on a dedicated
   * connection. SQLite: `BEGIN IMMEDIATE` on the one connection Kysely uses — the migrator runs no
   * transactions of its own on SQLite, so all of its DDL and bookkeeping commit atomically, and a
   * second process waits (busy_timeout) and then finds nothing left to do. `fn` must not open
   * a transaction itself.
   */
  withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
  /** How the audit log's batch commits become durable (SQLite file: the WAL synced off the event loop). */
  durability: CommitDurability;
  /** Waits for pending WAL syncs (SQLite), then closes the database. */
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** A stable signed 64-bit advisory-lock key for a name (FNV-1a 64). */
export function advisoryKey(name: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(`kakunin:${name}`, "utf8")) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, h);
}

/**
 * `url` is a `postgres://` / `postgresql://` URL or a SQLite file path (optionally `sqlite:` / `file:`
 * prefixed). All dialect-specific setup lives here and in the migrations' column types.
 *
 * PostgreSQL: a `pg` Pool (size `KAKUNIN_DB_POOL_MAX`, default 10). int8 (bigint, used for `seq`
 * and `size`) and numeric `count(*)` results are parsed as JS numbers — chains stay far below 2^53.
 */
export async function createDb(url: string, opts: { poolMax?: number } = {}): Promise<Db> {
  if (isPostgresUrl(url)) {
    const pg = (await import("pg")).default;
    const INT8 = 20;
    const types = {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    };
    // At least 2: withMigrationLock holds one connection while the locked work uses others.
    const max = Math.max(2, opts.poolMax ?? (Number(process.env.KAKUNIN_DB_POOL_MAX) || 10));
    const pool = new pg.Pool({ connectionString: url, max, types });
    // An idle client losing its connection (e.g. a failover) must not crash the process.
    pool.on("error", () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: "postgres",
      durability: synchronousCommits,
      close: () => db.destroy(),
      async withMigrationLock(fn) {
        const client = await pool.connect();
        const key = advisoryKey("migrate").toString();
        try {
          await client.query("select pg_advisory_lock($1::bigint)", [key]);
          try {
            return await fn();
          } finally {
            await client.query("select pg_advisory_unlock($1::bigint)", [key]).catch(() => undefined);
          }
        } finally {
          client.release();
        }
      },
    };
  }
  const file = url.replace(/^(sqlite|file):(\/\/)?/, "");
  if (file !== ":memory:") {
    // Payloads and token hashes: 0600 in a 0700 folder. SQLite creates -wal and -shm with the
    // database file's mode; ones left by an older version are tightened too.
    ensurePrivateDir(path.dirname(path.resolve(file)));
    ensurePrivateFile(file);
    for (const suffix of ["-wal", "-shm", "-journal"]) tightenIfPresent(`${file}${suffix}`);
  }
  const { default: SQLite } = await import("better-sqlite3");
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 10000");
  sqlite.pragma("foreign_keys = ON");
  // FULL: a 201 means the write survives power loss, not just a killed process. The log's batch
  // commits get the same guarantee from a WAL sync off the event loop (durability.ts, wal-sync.ts).
  sqlite.pragma("synchronous = FULL");
  const onDisk = file !== ":memory:" && sqlite.pragma("journal_mode", { simple: true }) === "wal";
  const durability = onDisk ? deferredWalSync(new WalSync(`${path.resolve(file)}-wal`)) : synchronousCommits;
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    db,
    dialect: "sqlite",
    durability,
    async close() {
      await durability.close();
      await db.destroy();
    },
    async withMigrationLock(fn) {
      // Poll without blocking the event loop (busy_timeout would block the whole thread — and with
      // it a lock holder in the same process).
      const deadline = Date.now() + 120_000;
      sqlite.pragma("busy_timeout = 0");
      try {
        for (;;) {
          try {
            sqlite.exec("BEGIN IMMEDIATE");
            break;
          } catch (e) {
            if ((e as { code?: string }).code !== "SQLITE_BUSY" || Date.now() > deadline) throw e;
            await new Promise((r) => setTimeout(r, 25));
          }
        }
      } finally {
        sqlite.pragma("busy_timeout = 10000");
      }
      try {
        const out = await fn();
        sqlite.exec("COMMIT");
        return out;
      } catch (e) {
        if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
        throw e;
      }
    },
  };
}

type SqliteDb = import("better-sqlite3").Database;
type SqliteStatement = import("better-sqlite3").Statement;

/**
 * What Kysely's SqliteDialect uses of better-sqlite3 (prepare, close), with prepared statements
 * reused by SQL text: Kysely prepares every query it runs, and compiling the same few statements
 * again on every append was ≈ 3 % of the server's CPU. A statement still being iterated (a
 * streamed query) is busy and not shared; the cache holds at most `max` statements (oldest out).
 */
export function withStatementCache(
  sqlite: SqliteDb,
  max = 512,
): { prepare(sql: string): SqliteStatement; close(): void } {
  const cache = new Map<string, SqliteStatement>();
  let noop: SqliteStatement | undefined;
  return {
    prepare(sql: string): SqliteStatement {
      // SQLite rolls a transaction back itself on SQLITE_FULL, IOERR, NOMEM…; Kysely's ROLLBACK
      // would then fail with "cannot rollback - no transaction is active" and hide the real error.
      if (sql === "rollback" && !sqlite.inTransaction) return (noop ??= sqlite.prepare("select 1 where 0"));
      const hit = cache.get(sql);
      if (hit && !hit.busy) return hit;
      const stmt = sqlite.prepare(sql);
      if (!hit) {
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}
