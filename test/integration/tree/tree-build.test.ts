/**
 * Building an issuer's Merkle tree from its stored entries (the store's catch-up, as the server runs
 * it at start for logs from before v2) on real SQLite and PostgreSQL: the stored root and proofs
 * built from stored nodes equal what the browser-safe primitives compute over the same entries.
 */
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../../server/db/connect.js";
import { KyselyLogStore } from "../../../server/log/storage/kysely-store.js";
import type { LogDb } from "../../../server/log/storage/tables.js";
import { TreeAppendError } from "../../../server/log/storage/tree-append.js";
import {
  buildProof,
  consistencyPlan,
  entryLeafData,
  entryLeafHash,
  inclusionPlan,
  rootOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "../../../verifier/src/formats/index.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { syntheticEntry } from "../../helpers/synthetic-entry.js";
import { migratedLogStore } from "../../helpers/store-db.js";

const ISSUER = "iss_tree";
const OTHER = "iss_other";

const entry = (issuer: string, seq: number) => syntheticEntry({ issuer, seq }) as unknown as Record<string, unknown>;

async function addEntries(db: Kysely<any>, issuer: string, from: number, to: number): Promise<void> {
  const rows = [];
  for (let s = from; s < to; s++) {
    const e = entry(issuer, s);
    rows.push({
      issuer_id: issuer,
      seq: s,
      hash: e.hash,
      prev_hash: e.prevHash,
      type: e.type,
      agent_id: "agt_1",
      signer_cert: "01",
      time: e.time,
      body: JSON.stringify(e),
    });
  }
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto("entries")
      .values(rows.slice(i, i + 200))
      .execute();
  // The chain head says how far the tree must reach (as a batch commit leaves it).
  const last = rows[rows.length - 1]!;
  const head = { size: to, head: last.hash, time: last.time };
  const moved = await db.updateTable("chain_heads").set(head).where("issuer_id", "=", issuer).executeTakeFirst();
  if (Number(moved.numUpdatedRows) === 0)
    await db
      .insertInto("chain_heads")
      .values({ issuer_id: issuer, ...head })
      .execute();
}

const kinds = await databaseKinds("tree catch-up");

describe.each(kinds)("tree catch-up on %s", (kind) => {
  let opened: Awaited<ReturnType<typeof migratedLogStore>>;
  let handle: Db;
  let db: Kysely<LogDb>;
  let store: KyselyLogStore;

  beforeAll(async () => {
    opened = await migratedLogStore(kind, [ISSUER, OTHER]);
    ({ handle, store } = opened);
    db = handle.db as unknown as Kysely<LogDb>;
  });

  afterAll(async () => {
    await opened?.close();
  });

  it("builds in chunks; root and every proof match the primitives", async () => {
    const raw = handle.db as unknown as Kysely<any>;
    await addEntries(raw, ISSUER, 0, 300);
    await addEntries(raw, OTHER, 0, 5);
    expect(await store.catchUpTree(ISSUER, 7)).toBe(7);
    expect(await store.catchUpTree(ISSUER, 250)).toBe(257);
    expect(await store.catchUpTree(ISSUER, 1000)).toBe(300);
    expect(await store.catchUpTree(ISSUER, 1000)).toBe(300); // nothing left

    const leaves = await Promise.all(Array.from({ length: 300 }, (_, s) => entryLeafHash(entry(ISSUER, s))));
    const root = await rootOfLeafHashes(leaves);
    const tree = store.treeNodes(ISSUER);
    expect(Buffer.from((await tree.head())!.root)).toEqual(Buffer.from(root));
    for (const i of [0, 1, 128, 255, 256, 299]) {
      await verifyInclusion(i, 300, leaves[i]!, await buildProof(inclusionPlan(i, 300), tree), root);
    }
    for (const m of [1, 7, 256, 257, 299]) {
      await verifyConsistency(
        m,
        300,
        await rootOfLeafHashes(leaves.slice(0, m)),
        root,
        await buildProof(consistencyPlan(m, 300), tree),
      );
    }
    // The other issuer's tree is separate.
    expect(await store.catchUpTree(OTHER, 1000)).toBe(5);
    expect(Buffer.from((await tree.head())!.root)).toEqual(Buffer.from(root));
  });

  it("the leaf is the entry's canonical bytes with hash and sig, the stored body verbatim", async () => {
    const e = entry(ISSUER, 3);
    expect(new TextDecoder().decode(entryLeafData(e))).toBe(JSON.stringify(e));
    // Another serialisation of the same entry gives the same leaf.
    const reordered = Object.fromEntries(Object.entries(e).reverse());
    expect(Buffer.from(entryLeafData(reordered))).toEqual(Buffer.from(entryLeafData(e)));
  });

  it("a gap in the entries stops the build and changes nothing", async () => {
    const raw = handle.db as unknown as Kysely<any>;
    await addEntries(raw, ISSUER, 301, 303); // 300 is missing
    await expect(store.catchUpTree(ISSUER, 1000)).rejects.toBeInstanceOf(TreeAppendError);
    expect((await store.treeNodes(ISSUER).head())!.size).toBe(300);
    const count = await db
      .selectFrom("tree_nodes")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("issuer_id", "=", ISSUER)
      .executeTakeFirstOrThrow();
    // Exactly the full subtrees of a 300-leaf tree: sum of floor(300 / 2^L) over levels.
    let full = 0;
    for (let span = 1; span <= 300; span *= 2) full += Math.floor(300 / span);
    expect(Number(count.n)).toBe(full);
  });
});
