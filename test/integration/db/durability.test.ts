/**
 * The SQLite log commit path (server/db/durability.ts, wal-sync.ts) on a real database file: batch
 * commits run with `synchronous = NORMAL` and are acknowledged after a WAL datasync off the event
 * loop; every other write keeps `synchronous = FULL`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../../server/db/connect.js";
import { WalSync } from "../../../server/db/wal-sync.js";

const dirs: string[] = [];
const handles: Db[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function sqliteFile(): Promise<Db> {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-durability-"));
  dirs.push(dir);
  const h = await createDb(join(dir, "k.db"));
  handles.push(h);
  await sql`create table t (k integer primary key, v text not null)`.execute(h.db);
  return h;
}

const safetyLevel = async (h: Db) =>
  (await sql<{ synchronous: number }>`pragma synchronous`.execute(h.db)).rows[0]!.synchronous;
const count = async (h: Db) => (await sql<{ n: number }>`select count(*) as n from t`.execute(h.db)).rows[0]!.n;

describe("deferred WAL sync (SQLite file)", () => {
  it("commits, resolves `durable` after the WAL sync, and leaves the connection at synchronous = FULL", async () => {
    const h = await sqliteFile();
    expect(await safetyLevel(h)).toBe(2); // FULL
    const { value, durable } = await h.durability.commit(h.db, async (trx) => {
      expect((await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0]!.synchronous).toBe(1); // NORMAL inside the batch
      await sql`insert into t (v) values ('a'), ('b')`.execute(trx);
      return "ok";
    });
    expect(value).toBe("ok");
    await expect(durable).resolves.toBeUndefined();
    expect(await safetyLevel(h)).toBe(2);
    expect(await count(h)).toBe(2);
    await expect(h.durability.flushed()).resolves.toBeUndefined();
  });

  it("a failing batch rolls back, writes nothing and still restores synchronous = FULL", async () => {
    const h = await sqliteFile();
    await expect(
      h.durability.commit(h.db, async (trx) => {
        await sql`insert into t (v) values ('a')`.execute(trx);
        await sql`insert into t (v) values (null)`.execute(trx); // NOT NULL
      }),
    ).rejects.toThrow();
    expect(await count(h)).toBe(0);
    expect(await safetyLevel(h)).toBe(2);
  });

  it("a write outside the log's batches, made while a batch is in its transaction, commits under FULL", async () => {
    const h = await sqliteFile();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batch = h.durability.commit(h.db, async (trx) => {
      await sql`insert into t (v) values ('batch')`.execute(trx);
      await gate;
    });
    // This statement must wait for the batch's connection: it cannot slip in under NORMAL.
    let otherDone = false;
    const other = sql`insert into t (v) values ('other')`.execute(h.db).then(async () => {
      otherDone = true;
      return safetyLevel(h);
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(otherDone).toBe(false);
    release();
    await (
      await batch
    ).durable;
    expect(await other).toBe(2);
    expect(await count(h)).toBe(2);
  });
});

describe("WalSync", () => {
  it("commits noted while a datasync runs share the next one", async () => {
    const h = await sqliteFile();
    await sql`insert into t (v) values ('x')`.execute(h.db); // the WAL file exists
    const wal = new WalSync(join(dirs[0]!, "k.db-wal"));
    try {
      await Promise.all(Array.from({ length: 50 }, () => wal.afterCommit()));
      // The first call starts a datasync at once; the other 49 arrive while it runs and share one more.
      expect(wal.syncs).toBe(2);
      await wal.flushed();
      expect(wal.syncs).toBe(2); // nothing new to sync
      await wal.afterCommit();
      expect(wal.syncs).toBe(3);
    } finally {
      await wal.close();
    }
  });

  it("a failed datasync is sticky: the waiting and every later caller are rejected with ERR_WAL_SYNC", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kakunin-walsync-"));
    dirs.push(dir);
    const wal = new WalSync(join(dir, "missing.db-wal")); // cannot be opened
    await expect(wal.afterCommit()).rejects.toMatchObject({ code: "ERR_WAL_SYNC" });
    await expect(wal.flushed()).rejects.toMatchObject({ code: "ERR_WAL_SYNC" });
    await expect(wal.afterCommit()).rejects.toMatchObject({ code: "ERR_WAL_SYNC" });
    expect(wal.syncs).toBe(0);
    await wal.close();
  });
});

describe("other databases", () => {
  it("an in-memory SQLite database commits synchronously (nothing to sync)", async () => {
    const h = await createDb(":memory:");
    handles.push(h);
    await sql`create table t (k integer primary key, v text not null)`.execute(h.db);
    const { durable } = await h.durability.commit(h.db, async (trx) => {
      // No WAL to sync later: the batch must commit under FULL itself.
      expect((await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0]!.synchronous).toBe(2);
      await sql`insert into t (v) values ('a')`.execute(trx);
    });
    await expect(durable).resolves.toBeUndefined();
    expect(await safetyLevel(h)).toBe(2);
  });
});
