import type { Kysely } from "kysely";
import type { LogDb } from "./tables.js";

/** An entry found by the KMS request id of its Sign (reconciliation; never served or exported). */
export interface EntryByRequestId {
  requestId: string;
  issuerId: string;
  seq: number;
  agentId: string;
  /** The key that signed it (the entry's `signer.key`). */
  keyArn: string;
}

/**
 * Entries from `since` on (an ISO 8601 time, as entries store it) whose Sign had one of
 * `requestIds`: a range of the time index, filtered (migration 010 says why not an index on the ids).
 */
export async function entriesByKmsRequestId(
  db: Kysely<LogDb>,
  requestIds: readonly string[],
  since: string,
): Promise<EntryByRequestId[]> {
  const out: EntryByRequestId[] = [];
  for (let i = 0; i < requestIds.length; i += 500) {
    const rows = await db
      .selectFrom("entries")
      .select(["issuer_id", "seq", "agent_id", "body", "kms_request_id"])
      .where("time", ">=", since)
      .where("kms_request_id", "in", requestIds.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const key = (JSON.parse(r.body) as { signer?: { key?: string } }).signer?.key;
      if (r.kms_request_id && key)
        out.push({
          requestId: r.kms_request_id,
          issuerId: r.issuer_id,
          seq: Number(r.seq),
          agentId: r.agent_id,
          keyArn: key,
        });
    }
  }
  return out;
}
