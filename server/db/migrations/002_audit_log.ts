import { sql, type Kysely } from "kysely";
import type { DialectName } from "../connect.js";

/**
 * Audit log tables. One hash chain per issuer:
 * - entries: the signed entries; `body` is the full entry JSON exactly as served/exported.
 * - payloads: kept apart from the chain (erasable without touching an entry).
 * - checkpoints: signed {issuer,size,head,time,signer}.
 * - chain_heads: one row per issuer; the committer advances it with a compare-and-swap so two
 *   processes can never fork a chain.
 */
export function makeAuditLog(dialect: DialectName) {
  const blob = dialect === "postgres" ? sql`bytea` : sql`blob`;
  const big = dialect === "postgres" ? sql`bigint` : sql`integer`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("entries")
        .addColumn("issuer_id", "text", (c) => c.notNull().references("issuers.id"))
        .addColumn("seq", big, (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .addColumn("prev_hash", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("agent_id", "text", (c) => c.notNull())
        .addColumn("signer_cert", "text", (c) => c.notNull())
        .addColumn("time", "text", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("entries_pk", ["issuer_id", "seq"])
        .execute();
      await db.schema.createIndex("entries_signer_idx").on("entries").columns(["issuer_id", "signer_cert"]).execute();
      await db.schema.createIndex("entries_type_idx").on("entries").columns(["issuer_id", "type", "seq"]).execute();
      await db.schema
        .createTable("payloads")
        .addColumn("issuer_id", "text", (c) => c.notNull())
        .addColumn("seq", big, (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("data", blob, (c) => c.notNull())
        .addPrimaryKeyConstraint("payloads_pk", ["issuer_id", "seq"])
        .execute();
      await db.schema
        .createTable("checkpoints")
        .addColumn("issuer_id", "text", (c) => c.notNull().references("issuers.id"))
        .addColumn("size", big, (c) => c.notNull())
        .addColumn("head", "text", (c) => c.notNull())
        .addColumn("time", "text", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("checkpoints_pk", ["issuer_id", "size"])
        .execute();
      await db.schema
        .createTable("chain_heads")
        .addColumn("issuer_id", "text", (c) => c.primaryKey().references("issuers.id"))
        .addColumn("size", big, (c) => c.notNull())
        .addColumn("head", "text", (c) => c.notNull())
        .addColumn("time", "text", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ["chain_heads", "checkpoints", "payloads", "entries"]) await db.schema.dropTable(t).execute();
    },
  };
}
