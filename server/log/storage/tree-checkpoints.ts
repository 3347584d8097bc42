/** The statements behind the log v2 checkpoints (migration 004 `tree_checkpoints`). */
import type { Kysely } from "kysely";
import type { SignedCheckpoint } from "../tree/checkpoint-hooks.js";
import { assertCosignedSuperset, CheckpointNoteError, signedCheckpointFromNote } from "../tree/signed-checkpoint.js";
import type { LogDb } from "./tables.js";

/** How often a cosignature replacement retries when another one landed between its read and its write. */
const COSIGN_ATTEMPTS = 5;

export async function storeTreeCheckpoint(
  db: Kysely<LogDb>,
  issuerId: string,
  size: number,
  note: string,
  createdAt: string,
): Promise<boolean> {
  const res = await db
    .insertInto("tree_checkpoints")
    .values({ issuer_id: issuerId, size, note, created_at: createdAt })
    .onConflict((oc) => oc.columns(["issuer_id", "size"]).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function latestTreeCheckpoint(db: Kysely<LogDb>, issuerId: string): Promise<SignedCheckpoint | undefined> {
  const row = await db
    .selectFrom("tree_checkpoints")
    .select("note")
    .where("issuer_id", "=", issuerId)
    .orderBy("size", "desc")
    .limit(1)
    .executeTakeFirst();
  return row ? signedCheckpointFromNote(issuerId, row.note) : undefined;
}

export async function treeCheckpointAt(
  db: Kysely<LogDb>,
  issuerId: string,
  size: number,
): Promise<SignedCheckpoint | undefined> {
  const row = await db
    .selectFrom("tree_checkpoints")
    .select("note")
    .where("issuer_id", "=", issuerId)
    .where("size", "=", size)
    .executeTakeFirst();
  return row ? signedCheckpointFromNote(issuerId, row.note) : undefined;
}

/** Compare-and-swap on the stored note, so two hooks adding cosignatures at once both keep theirs (the loser re-checks). */
export async function addCheckpointSignatures(
  db: Kysely<LogDb>,
  issuerId: string,
  size: number,
  note: string,
): Promise<SignedCheckpoint> {
  for (let attempt = 0; attempt < COSIGN_ATTEMPTS; attempt++) {
    const stored = await treeCheckpointAt(db, issuerId, size);
    if (!stored) throw new CheckpointNoteError(`no checkpoint of size ${size} is stored for ${issuerId}`);
    assertCosignedSuperset(stored.note, note);
    if (stored.note === note) return stored;
    const res = await db
      .updateTable("tree_checkpoints")
      .set({ note })
      .where("issuer_id", "=", issuerId)
      .where("size", "=", size)
      .where("note", "=", stored.note)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) return signedCheckpointFromNote(issuerId, note);
  }
  throw new CheckpointNoteError(`checkpoint ${size} of ${issuerId} kept changing; cosignatures not added`);
}

/**
 * The stored notes of sizes in [minSize, maxSize], the newest `limit` of them, in ascending size
 * order (an export's tree-checkpoint lines).
 */
export async function treeCheckpointNotes(
  db: Kysely<LogDb>,
  issuerId: string,
  minSize: number,
  maxSize: number,
  limit: number,
): Promise<{ size: number; note: string }[]> {
  const rows = await db
    .selectFrom("tree_checkpoints")
    .select(["size", "note"])
    .where("issuer_id", "=", issuerId)
    .where("size", ">=", minSize)
    .where("size", "<=", maxSize)
    .orderBy("size", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ size: Number(r.size), note: r.note })).reverse();
}

export async function treeCheckpointSizes(db: Kysely<LogDb>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("tree_checkpoints")
    .select(["issuer_id", (eb) => eb.fn.max("size").as("size")])
    .groupBy("issuer_id")
    .execute();
  return new Map(rows.map((r) => [r.issuer_id, Number(r.size)]));
}

export async function treeLag(db: Kysely<LogDb>): Promise<{ issuerId: string; chainSize: number; treeSize: number }[]> {
  const rows = await db
    .selectFrom("chain_heads")
    .leftJoin("tree_heads", "tree_heads.issuer_id", "chain_heads.issuer_id")
    .select(["chain_heads.issuer_id", "chain_heads.size as chain", "tree_heads.size as tree"])
    .execute();
  return rows.map((r) => ({ issuerId: r.issuer_id, chainSize: Number(r.chain), treeSize: Number(r.tree ?? 0) }));
}
