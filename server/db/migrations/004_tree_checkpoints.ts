import { sql, type Kysely } from "kysely";
import type { DialectName } from "../connect.js";

/**
 * Log v2 checkpoints (issue 15): every signed note published for an issuer's tree, by size, so the
 * checkpoint route reads the latest and never waits on KMS. `note` is the C2SP signed note verbatim
 * (the tlog-checkpoint body, the log key's Ed25519 signature line first, then any cosignatures).
 */
export function makeTreeCheckpoints(dialect: DialectName) {
  const big = dialect === "postgres" ? sql`bigint` : sql`integer`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("tree_checkpoints")
        .addColumn("issuer_id", "text", (c) => c.notNull().references("issuers.id"))
        .addColumn("size", big, (c) => c.notNull())
        .addColumn("note", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("tree_checkpoints_pk", ["issuer_id", "size"])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("tree_checkpoints").execute();
    },
  };
}
