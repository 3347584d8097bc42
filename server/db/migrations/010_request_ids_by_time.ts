import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { DialectName } from "../connect.js";

/**
 * Reconciliation finds an entry by its KMS request id within a time window (issue 18's 5 % append
 * budget): the partial index on entries.kms_request_id (007) is dropped, because request ids are
 * random UUIDs — each row of a batch landed on its own B-tree leaf, and every commit wrote those
 * pages to the WAL (4–8 % of append throughput, server/monitoring/README.md). An index on
 * entries.time grows at its right edge instead (a batch fills one leaf), and the lookup scans
 * only the window's entries.
 */
export function makeRequestIdsByTime(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex("entries_kms_request_idx").execute();
      await db.schema.createIndex("entries_time_idx").on("entries").column("time").execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex("entries_time_idx").execute();
      await db.schema
        .createIndex("entries_kms_request_idx")
        .on("entries")
        .column("kms_request_id")
        .where(sql.ref("kms_request_id"), "is not", null)
        .execute();
    },
  };
}
