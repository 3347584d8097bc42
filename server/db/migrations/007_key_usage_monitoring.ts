import { sql, type Kysely } from "kysely";
import type { DialectName } from "../connect.js";

/**
 * Key-usage monitoring (issue 18):
 * - entries.kms_request_id: the KMS request id of the entry's Sign (CloudTrail's `requestID`), for
 *   reconciliation; beside the entry, never in its JSON, never exported or served.
 * - kms_signatures: request ids of Kakunin's other Signs (certificates, CRLs, checkpoints, made with
 *   the CA and log keys), by request id.
 * - alerts: key-usage alerts, stored once by id (an alert id is the hash of its finding).
 */
export function makeKeyUsageMonitoring(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable("entries").addColumn("kms_request_id", "text").execute();
      await db.schema
        .createIndex("entries_kms_request_idx")
        .on("entries")
        .column("kms_request_id")
        .where(sql.ref("kms_request_id"), "is not", null)
        .execute();
      await db.schema
        .createTable("kms_signatures")
        .addColumn("request_id", "text", (c) => c.primaryKey())
        .addColumn("key_arn", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("alerts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("time", "text", (c) => c.notNull())
        .addColumn("issuer_id", "text")
        .addColumn("agent_id", "text")
        .addColumn("key_arn", "text")
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("severity", "text", (c) => c.notNull())
        .addColumn("summary", "text", (c) => c.notNull())
        .addColumn("evidence", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("alerts_time_idx").on("alerts").columns(["time", "id"]).execute();
      await db.schema.createIndex("alerts_issuer_time_idx").on("alerts").columns(["issuer_id", "time", "id"]).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("alerts").execute();
      await db.schema.dropTable("kms_signatures").execute();
      await db.schema.dropIndex("entries_kms_request_idx").execute();
      await db.schema.alterTable("entries").dropColumn("kms_request_id").execute();
    },
  };
}
