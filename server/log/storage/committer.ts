/**
 * The statements of a batch commit, inside the caller's transaction: the entries and their payloads,
 * and `chain_heads` advanced with a compare-and-swap on the previous size and head, so two processes
 * appending to the same issuer can never fork its chain: the loser gets ChainConflictError, re-reads
 * the head and re-sequences. PostgreSQL additionally locks the head row FOR UPDATE, and the appender
 * holds the issuer's chain lock (`lockChain`, an advisory transaction lock) from reading the head to
 * the commit, so instances queue instead of colliding; the CAS stays as the safety net. SQLite's
 * single writer serialises the transaction (its first statement is a write).
 */
import { sql, type Kysely, type Transaction } from "kysely";
import { advisoryKey } from "../../db/connect.js";
import type { DialectName } from "../../db/connect.js";
import { ZERO_HASH } from "../canonical.js";
import { INSERT_CHUNK } from "../tuning.js";
import { ChainConflictError, type ChainHead, type CommitItem } from "./log-store.js";
import type { LogDb } from "./tables.js";

export async function readHead(db: Kysely<LogDb> | Transaction<LogDb>, issuerId: string): Promise<ChainHead> {
  const row = await db
    .selectFrom("chain_heads")
    .select(["size", "head", "time"])
    .where("issuer_id", "=", issuerId)
    .executeTakeFirst();
  return row ? { size: Number(row.size), head: row.head, time: row.time } : { size: 0, head: ZERO_HASH, time: "" };
}

/**
 * PostgreSQL: take the issuer's chain lock for the rest of `trx` — a transaction-scoped advisory
 * lock, so it is released by the COMMIT/ROLLBACK itself and can never leak into a pooled session.
 * Held from reading the head, through sequencing and signing, to the commit: a batch from another
 * instance waits instead of colliding on the head (and being re-signed). SQLite: a no-op (one writer).
 */
export async function lockChain(
  trx: Transaction<LogDb>,
  dialect: DialectName,
  issuerId: string,
): Promise<{ waited: boolean }> {
  if (dialect !== "postgres") return { waited: false };
  const key = advisoryKey(`chain:${issuerId}`).toString();
  // Try first, so contention is observable (AppenderStats.chainLockWaits); then wait for it.
  const got = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${key}::bigint) as ok`.execute(trx);
  if (got.rows[0]?.ok === true) return { waited: false };
  await sql`select pg_advisory_xact_lock(${key}::bigint)`.execute(trx);
  return { waited: true };
}

/** The statements of a commit, inside the caller's transaction (head CAS, entries, payloads). */
export async function writeBatch(
  trx: Transaction<LogDb>,
  dialect: DialectName,
  issuerId: string,
  expected: ChainHead,
  items: CommitItem[],
): Promise<ChainHead> {
  const last = items[items.length - 1];
  if (!last) return expected;
  const next: ChainHead = { size: expected.size + items.length, head: last.entry.hash, time: last.entry.time };
  if (dialect === "postgres") {
    await trx.selectFrom("chain_heads").select("size").where("issuer_id", "=", issuerId).forUpdate().executeTakeFirst();
  }
  const upd = await trx
    .updateTable("chain_heads")
    .set({ size: next.size, head: next.head, time: next.time })
    .where("issuer_id", "=", issuerId)
    .where("size", "=", expected.size)
    .where("head", "=", expected.head)
    .executeTakeFirst();
  if (Number(upd.numUpdatedRows) !== 1) {
    if (expected.size !== 0) throw new ChainConflictError(issuerId);
    const ins = await trx
      .insertInto("chain_heads")
      .values({ issuer_id: issuerId, size: next.size, head: next.head, time: next.time })
      .onConflict((oc) => oc.column("issuer_id").doNothing())
      .executeTakeFirst();
    if (Number(ins.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new ChainConflictError(issuerId);
  }
  for (let i = 0; i < items.length; i += INSERT_CHUNK) {
    const chunk = items.slice(i, i + INSERT_CHUNK);
    await trx
      .insertInto("entries")
      .values(
        chunk.map(({ entry: e, kmsRequestId }) => ({
          issuer_id: issuerId,
          seq: e.seq,
          hash: e.hash,
          prev_hash: e.prevHash,
          type: e.type,
          agent_id: e.agent,
          signer_cert: e.signer.cert,
          time: e.time,
          body: JSON.stringify(e),
          kms_request_id: kmsRequestId ?? null,
        })),
      )
      .execute();
    const payloads = chunk.filter((c) => c.payload !== undefined);
    if (payloads.length) {
      await trx
        .insertInto("payloads")
        .values(
          payloads.map((c) => ({
            issuer_id: issuerId,
            seq: c.entry.seq,
            kind: c.payload!.kind,
            data: c.payload!.data,
          })),
        )
        .execute();
    }
  }
  return next;
}
