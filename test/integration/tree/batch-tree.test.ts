/**
 * The tree extended inside each batch commit, through the KyselyLogStore on real SQLite and
 * PostgreSQL: tree size == chain size after every commit (both paths: commitBatch and the chain
 * lock), the stored root and proofs equal the browser-safe primitives over the same entries, a
 * tree that lags its chain (a database from before log v2) is caught up in chunks or inside the
 * next commit, and stored checkpoints only ever gain signature lines.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../../server/db/connect.js";
import { KyselyLogStore } from "../../../server/log/storage/kysely-store.js";
import type { ChainHead } from "../../../server/log/storage/log-store.js";
import type { LogEntry } from "../../../server/log/types.js";
import { catchUpTrees } from "../../../server/log/tree/catch-up.js";
import { TreeProofs, ProofRangeError } from "../../../server/log/tree/proofs.js";
import { CheckpointNoteError } from "../../../server/log/tree/signed-checkpoint.js";
import {
  entryLeafHash,
  formatCheckpoint,
  formatNote,
  parseNote,
  rootOfLeafHashes,
  signNote,
  verifyConsistency,
  verifyInclusion,
  type Bytes,
} from "../../../verifier/src/formats/index.js";

import { databaseKinds } from "../../helpers/postgres.js";
import { syntheticEntry } from "../../helpers/synthetic-entry.js";
import { migratedLogStore } from "../../helpers/store-db.js";

const ISSUER = "iss_batch";

const entry = (seq: number, prevHash: string) => syntheticEntry({ issuer: ISSUER, seq, prevHash });

function batch(head: ChainHead, n: number): LogEntry[] {
  const out: LogEntry[] = [];
  let prev = head.head;
  for (let i = 0; i < n; i++) {
    const e = entry(head.size + i, prev);
    out.push(e);
    prev = e.hash;
  }
  return out;
}

const kinds = await databaseKinds("tree in the batch commit");

describe.each(kinds)("tree in the batch commit on %s", (kind) => {
  let opened: Awaited<ReturnType<typeof migratedLogStore>>;
  let handle: Db;
  let store: KyselyLogStore;
  let raw: Kysely<any>;
  const all: LogEntry[] = [];

  const commit = async (n: number, locked = false) => {
    const head = await store.head(ISSUER);
    const items = batch(head, n);
    if (locked) await store.withChainLock(ISSUER, (c) => c.write(items.map((entry) => ({ entry }))));
    else
      await (
        await store.commitBatch(
          ISSUER,
          head,
          items.map((entry) => ({ entry })),
        )
      ).durable;
    all.push(...items);
  };
  const expectedRoot = async (n: number) =>
    rootOfLeafHashes(await Promise.all(all.slice(0, n).map((e) => entryLeafHash(e as never))));
  const treeHead = async () => (await store.treeNodes(ISSUER).head())!;

  beforeAll(async () => {
    opened = await migratedLogStore(kind, [ISSUER]);
    ({ handle, store, raw } = opened);
  });
  afterAll(async () => {
    await opened?.close();
  });

  it("every commit extends the tree to the chain's size; root and proofs match the primitives", async () => {
    for (const n of [1, 2, 5, 250, 3]) await commit(n, n === 5 && kind === "postgres");
    const size = all.length;
    expect((await store.head(ISSUER)).size).toBe(size);
    const head = await treeHead();
    expect(head.size).toBe(size);
    expect(Buffer.from(head.root).toString("hex")).toBe(Buffer.from(await expectedRoot(size)).toString("hex"));

    const proofs = new TreeProofs(store);
    for (const [i, n] of [
      [0, 1],
      [3, 8],
      [200, size],
      [size - 1, size],
    ] as const) {
      const proof = await proofs.inclusionProof(ISSUER, i, n);
      await verifyInclusion(i, n, await entryLeafHash(all[i] as never), proof, await expectedRoot(n));
    }
    for (const [m, n] of [
      [1, size],
      [7, 8],
      [100, 257],
      [size, size],
    ] as const) {
      const proof = await proofs.consistencyProof(ISSUER, m, n);
      await verifyConsistency(m, n, await expectedRoot(m), await expectedRoot(n), proof);
    }
    await expect(proofs.inclusionProof(ISSUER, size, size)).rejects.toBeInstanceOf(ProofRangeError);
    await expect(proofs.inclusionProof(ISSUER, 0, size + 1)).rejects.toBeInstanceOf(ProofRangeError);
    await expect(proofs.consistencyProof(ISSUER, 5, 4)).rejects.toBeInstanceOf(ProofRangeError);
  });

  it("another store (another process) appending meanwhile: the cached edge is re-read", async () => {
    const other = new KyselyLogStore(handle);
    const head = await other.head(ISSUER);
    const items = batch(head, 9);
    await (
      await other.commitBatch(
        ISSUER,
        head,
        items.map((entry) => ({ entry })),
      )
    ).durable;
    all.push(...items);
    await commit(4); // `store`'s cache is at the old size
    expect((await treeHead()).size).toBe(all.length);
    expect(Buffer.from((await treeHead()).root)).toEqual(Buffer.from(await expectedRoot(all.length)));
  });

  it("a tree lagging its chain is caught up at start-up in chunks, or inside the next commit", async () => {
    const size = all.length;
    await raw.deleteFrom("tree_nodes").where("issuer_id", "=", ISSUER).execute();
    await raw.deleteFrom("tree_heads").where("issuer_id", "=", ISSUER).execute();
    expect(await store.treeLag()).toEqual([{ issuerId: ISSUER, chainSize: size, treeSize: 0 }]);
    const logged: object[] = [];
    expect(await catchUpTrees(store, { info: (o) => logged.push(o) }, 100)).toBe(size);
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect((await treeHead()).size).toBe(size);
    expect(Buffer.from((await treeHead()).root)).toEqual(Buffer.from(await expectedRoot(size)));

    // Lagging again (half the tree gone): the next commit integrates the gap and its own batch.
    await raw.deleteFrom("tree_nodes").where("issuer_id", "=", ISSUER).execute();
    await raw.deleteFrom("tree_heads").where("issuer_id", "=", ISSUER).execute();
    await store.catchUpTree(ISSUER, 17);
    expect((await treeHead()).size).toBe(17);
    await commit(2);
    expect((await treeHead()).size).toBe(all.length);
    expect(Buffer.from((await treeHead()).root)).toEqual(Buffer.from(await expectedRoot(all.length)));
  });

  it("stored checkpoints only gain signature lines (same body, the log's line first)", async () => {
    const keys = [0, 1, 2].map(() => generateKeyPairSync("ed25519"));
    const pub = (i: number) => new Uint8Array(keys[i]!.publicKey.export({ format: "der", type: "spki" }).subarray(12));
    const signWith = (i: number) => async (m: Uint8Array) => new Uint8Array(sign(null, m, keys[i]!.privateKey));
    const body = formatCheckpoint({
      origin: "log.test/iss_batch",
      size: 3,
      root: (await expectedRoot(3)) as Bytes,
      extensions: [],
    });
    const logNote = await signNote(body, "log.test/iss_batch", pub(0), signWith(0));
    expect(await store.storeTreeCheckpoint(ISSUER, 3, logNote, "t")).toBe(true);
    expect(await store.storeTreeCheckpoint(ISSUER, 3, logNote, "t")).toBe(false);
    const cosig = async (i: number, name: string) =>
      parseNote(await signNote(body, name, pub(i), signWith(i))).signatures[0]!;
    const w1 = await cosig(1, "witness.one");
    const w2 = await cosig(2, "witness.two");
    const log = parseNote(logNote).signatures[0]!;
    const withW1 = formatNote({ text: body, signatures: [log, w1] });
    const cp = await store.addCheckpointSignatures(ISSUER, 3, withW1);
    expect(cp).toMatchObject({ issuerId: ISSUER, origin: "log.test/iss_batch", size: 3, body, note: withW1 });
    expect((await store.latestTreeCheckpoint(ISSUER))!.note).toBe(withW1);
    // Dropping a stored line, reordering the log's line, or another body: refused, nothing changes.
    for (const bad of [
      formatNote({ text: body, signatures: [log, w2] }),
      formatNote({ text: body, signatures: [w1, log] }),
      formatNote({ text: body.replace("3\n", "4\n"), signatures: [log, w1] }),
      "not a note",
    ])
      await expect(store.addCheckpointSignatures(ISSUER, 3, bad)).rejects.toBeInstanceOf(CheckpointNoteError);
    await expect(store.addCheckpointSignatures(ISSUER, 99, withW1)).rejects.toBeInstanceOf(CheckpointNoteError);
    expect((await store.treeCheckpointAt(ISSUER, 3))!.note).toBe(withW1);
    const all3 = formatNote({ text: body, signatures: [log, w1, w2] });
    expect((await store.addCheckpointSignatures(ISSUER, 3, all3)).note).toBe(all3);
    expect((await store.treeCheckpointSizes()).get(ISSUER)).toBe(3);
  });
});
