/**
 * The log v2 checkpoint keys as recorded in the database: the current one (`system.tlog_key_arn`)
 * and every older one a rotation retired (`keys`, purpose `tlog`, state Disabled). Read without
 * KMS: the public keys were captured when each key was created, so a disabled key's verifier key
 * stays published (real KMS refuses GetPublicKey on a disabled key).
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { ed25519PublicKeyFromSpki, type CheckpointKey, type CheckpointKeys } from "../log/tree/log-key.js";
import { storedSystemKey } from "./system-keys.js";

/** The current checkpoint key; throws before the first start has created one. */
export async function currentCheckpointKey(db: Kysely<Database>): Promise<CheckpointKey> {
  const key = await storedSystemKey(db, "tlog");
  if (!key) throw new Error("no log checkpoint key recorded yet (the first start creates it)");
  return { arn: key.arn, publicKey: ed25519PublicKeyFromSpki(key.publicKey) };
}

/** The current key first, then the retired (Disabled) ones, the most recently retired first. */
export async function allCheckpointKeys(db: Kysely<Database>): Promise<CheckpointKey[]> {
  const current = await currentCheckpointKey(db);
  const retired = await db
    .selectFrom("keys")
    .select(["arn", "public_key"])
    .where("purpose", "=", "tlog")
    .where("state", "=", "Disabled")
    .where("arn", "!=", current.arn)
    .orderBy("disabled_at", "desc")
    .orderBy("created_at", "desc")
    .execute();
  return [
    current,
    ...retired.map((r) => ({ arn: r.arn, publicKey: ed25519PublicKeyFromSpki(new Uint8Array(r.public_key)) })),
  ];
}

/** {@link CheckpointKeys} over the database: each call reads it again, so other instances' rotations are seen. */
export function storedCheckpointKeys(db: Kysely<Database>): CheckpointKeys {
  return { current: () => currentCheckpointKey(db), all: () => allCheckpointKeys(db) };
}
