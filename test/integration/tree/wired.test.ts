/**
 * The Merkle tree integrated inside each batch commit, in real server processes (real local KMS over
 * HTTP, SQLite and PostgreSQL): after appends over HTTP, the tree the server stored (tree_heads)
 * has the root the browser-safe primitives compute over the exported entries' leaf data — by
 * itself, without anyone asking; a tree that is behind its chain at start-up catches up; on
 * PostgreSQL two instances appending to one issuer integrate one tree, not two.
 */
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../../server/db/connect.js";
import {
  entryLeafHash,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  formatVerifierKey,
  rootOfLeafHashes,
} from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { httpCaller, parseExport, setupIssuer, testDatabase, type Call } from "../log/fixture.js";

let kms: LocalKms;
beforeAll(async () => {
  kms = await startLocalKms();
});
afterAll(async () => {
  await kms?.stop();
});

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Appends `n` operations from 8 concurrent clients spread over the agents. */
async function appendMany(call: Call, agents: { id: string; token: string }[], n: number, tag: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let k = next++; k < n; k = next++) {
        const a = agents[k % agents.length]!;
        const r = await call("POST", `/v1/agents/${a.id}/operations`, {
          token: a.token,
          body: { payload: { tag, k } },
        });
        expect(r.status).toBe(201);
      }
    }),
  );
}

async function exportedEntries(call: Call, token: string): Promise<Record<string, unknown>[]> {
  const res = await call("GET", "/v1/log/export", { token });
  expect(res.status).toBe(200);
  return parseExport(res.text).entries;
}

/** The root the primitives compute over the exported entries (FORMATS.md "Merkle tree leaves"). */
async function expectedRoot(entries: Record<string, unknown>[]): Promise<string> {
  return hex(await rootOfLeafHashes(await Promise.all(entries.map((e) => entryLeafHash(e)))));
}

/** Tree size == chain size at every moment: both heads read in one statement. */
async function expectTreeEqualsChain(db: Kysely<any>, issuerId: string): Promise<number> {
  const row = await db
    .selectFrom("chain_heads")
    .leftJoin("tree_heads", "tree_heads.issuer_id", "chain_heads.issuer_id")
    .select(["chain_heads.size as chain", "tree_heads.size as tree"])
    .where("chain_heads.issuer_id", "=", issuerId)
    .executeTakeFirstOrThrow();
  expect(Number(row.tree)).toBe(Number(row.chain));
  return Number(row.chain);
}

/** Waits until a signed checkpoint of `size` is stored; checks its signature with the tlog key's public key from `keys`. */
async function checkpointAt(db: Kysely<any>, issuerId: string, size: number) {
  const until = Date.now() + 20_000;
  for (;;) {
    const row = await db
      .selectFrom("tree_checkpoints")
      .select(["size", "note"])
      .where("issuer_id", "=", issuerId)
      .orderBy("size", "desc")
      .limit(1)
      .executeTakeFirst();
    if (row && Number(row.size) === size) {
      const key = await db
        .selectFrom("keys")
        .select("public_key")
        .where("purpose", "=", "tlog")
        .executeTakeFirstOrThrow();
      const raw = new Uint8Array(key.public_key).slice(-32);
      const cp = parseCheckpoint(row.note.slice(0, row.note.lastIndexOf("\n\n") + 1));
      const vkey = await parseVerifierKey(await formatVerifierKey(cp.origin, raw));
      const opened = await openNote(row.note, [vkey]);
      expect(opened.verified.length).toBe(1);
      expect(cp.origin.endsWith(`/${issuerId}`)).toBe(true);
      return { ...cp, note: row.note as string };
    }
    if (Date.now() > until) throw new Error(`no checkpoint of size ${size} for ${issuerId} (latest ${row?.size})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits (without triggering anything) until the server's stored tree has `size` leaves; returns its root. */
async function storedRootAt(db: Kysely<any>, issuerId: string, size: number): Promise<string> {
  const until = Date.now() + 20_000;
  for (;;) {
    const row = await db
      .selectFrom("tree_heads")
      .select(["size", "root"])
      .where("issuer_id", "=", issuerId)
      .executeTakeFirst();
    if (row && Number(row.size) === size) return hex(new Uint8Array(row.root));
    if (row && Number(row.size) > size)
      throw new Error(`tree of ${issuerId} has ${row.size} leaves, more than the ${size} entries exported`);
    if (Date.now() > until) throw new Error(`tree of ${issuerId} stayed at ${row?.size ?? "none"}, expected ${size}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const KINDS = await databaseKinds("tree/wired");

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    let database: Awaited<ReturnType<typeof testDatabase>>;
    let server: RunningServer | undefined;
    let second: RunningServer | undefined;
    let handle: Db | undefined;
    const tables = () => handle!.db as unknown as Kysely<any>;

    beforeAll(async () => {
      database = await testDatabase(kind);
    });
    afterAll(async () => {
      await second?.stop();
      await server?.stop();
      await handle?.close();
      await database?.drop();
    });

    it("integrates each issuer's tree after its appends; the stored root is the primitives' root over the export", async () => {
      server = await startServer({ kmsEndpoint: kms.endpoint, env: { LOG_LEVEL: "warn", ...database.env } });
      handle = await createDb(database.env.DATABASE_URL ?? `${server.dataDir}/kakunin.db`);
      const call = httpCaller(server.url);
      const a = await setupIssuer(call, server.operatorToken, 3, "Tree A");
      const b = await setupIssuer(call, server.operatorToken, 1, "Tree B");
      await Promise.all([appendMany(call, a.agents, 150, "a"), appendMany(call, b.agents, 7, "b")]);
      for (const iss of [a, b]) {
        const entries = await exportedEntries(call, iss.issuerToken);
        expect(entries.length).toBe(iss === a ? 153 : 8); // registrations + operations
        expect(await expectTreeEqualsChain(tables(), iss.issuerId)).toBe(entries.length);
        expect(await storedRootAt(tables(), iss.issuerId, entries.length)).toBe(await expectedRoot(entries));
        const cp = await checkpointAt(tables(), iss.issuerId, entries.length);
        expect(hex(cp.root)).toBe(await expectedRoot(entries));
      }
      // More appends move the same tree on.
      await appendMany(call, a.agents, 21, "a2");
      const entries = await exportedEntries(call, a.issuerToken);
      expect(await storedRootAt(tables(), a.issuerId, entries.length)).toBe(await expectedRoot(entries));
      const nodes = await tables()
        .selectFrom("tree_nodes")
        .select((eb: any) => eb.fn.countAll().as("n"))
        .where("issuer_id", "=", a.issuerId)
        .where("level", "=", 0)
        .executeTakeFirst();
      expect(Number((nodes as { n?: unknown } | undefined)?.n)).toBe(entries.length);

      // A tree behind its chain at start-up (a database from before log v2) catches up before appends.
      const { dataDir, operatorToken } = server;
      await server.stop();
      await tables().deleteFrom("tree_nodes").where("issuer_id", "=", a.issuerId).execute();
      await tables().deleteFrom("tree_heads").where("issuer_id", "=", a.issuerId).execute();
      server = await startServer({
        kmsEndpoint: kms.endpoint,
        dataDir,
        operatorToken,
        env: { LOG_LEVEL: "warn", ...database.env },
      });
      expect(await storedRootAt(tables(), a.issuerId, entries.length)).toBe(await expectedRoot(entries));
      await appendMany(httpCaller(server.url), a.agents, 5, "a3");
      const after = await exportedEntries(httpCaller(server.url), a.issuerToken);
      expect(await expectTreeEqualsChain(tables(), a.issuerId)).toBe(after.length);
      expect(await storedRootAt(tables(), a.issuerId, after.length)).toBe(await expectedRoot(after));
    });

    it.runIf(kind === "postgres")("two instances appending to one issuer integrate one tree", async () => {
      second = await startServer({
        kmsEndpoint: kms.endpoint,
        operatorToken: server!.operatorToken,
        env: { LOG_LEVEL: "warn", ...database.env },
      });
      const one = httpCaller(server!.url);
      const two = httpCaller(second.url);
      const c = await setupIssuer(one, server!.operatorToken, 4, "Tree C");
      await Promise.all([appendMany(one, c.agents, 80, "one"), appendMany(two, c.agents, 80, "two")]);
      const entries = await exportedEntries(two, c.issuerToken);
      expect(entries.length).toBe(164);
      expect(await expectTreeEqualsChain(tables(), c.issuerId)).toBe(entries.length);
      expect(await storedRootAt(tables(), c.issuerId, entries.length)).toBe(await expectedRoot(entries));
    });
  });
