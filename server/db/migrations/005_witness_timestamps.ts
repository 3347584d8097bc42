import { sql, type Kysely } from "kysely";
import type { DialectName } from "../connect.js";

/**
 * What the log keeps of its witnesses and TSAs (issues 16 and 17), keyed by checkpoint origin (one
 * origin per issuer log: what the witness protocol and the checkpoint text name):
 * - witness_sizes: per origin and witness (its cosigner vkey), the size it last cosigned or named
 *   in a 409, so the next add-checkpoint sends the right old size and proof.
 * - timestamped_checkpoints: each checkpoint text that got at least one token (key = SHA-256 of the
 *   text, hex), with its origin and size for "the smallest stamped checkpoint covering an entry".
 * - tree_checkpoint_timestamps: the RFC 3161 tokens (DER TimeStampToken), one row per (checkpoint,
 *   TSA, serial number); never updated or deleted.
 */
export function makeWitnessTimestamps(dialect: DialectName) {
  const blob = dialect === "postgres" ? sql`bytea` : sql`blob`;
  const big = dialect === "postgres" ? sql`bigint` : sql`integer`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("witness_sizes")
        .addColumn("origin", "text", (c) => c.notNull())
        .addColumn("witness_vkey", "text", (c) => c.notNull())
        .addColumn("size", big, (c) => c.notNull())
        .addPrimaryKeyConstraint("witness_sizes_pk", ["origin", "witness_vkey"])
        .execute();
      await db.schema
        .createTable("timestamped_checkpoints")
        .addColumn("checkpoint_key", "text", (c) => c.primaryKey())
        .addColumn("origin", "text", (c) => c.notNull())
        .addColumn("size", big, (c) => c.notNull())
        .addColumn("text", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("timestamped_checkpoints_origin_idx")
        .on("timestamped_checkpoints")
        .columns(["origin", "size"])
        .execute();
      await db.schema
        .createTable("tree_checkpoint_timestamps")
        .addColumn("checkpoint_key", "text", (c) => c.notNull().references("timestamped_checkpoints.checkpoint_key"))
        .addColumn("tsa_url", "text", (c) => c.notNull())
        .addColumn("serial_number", "text", (c) => c.notNull())
        .addColumn("token", blob, (c) => c.notNull())
        /** ISO 8601 with milliseconds (sorts as time). */
        .addColumn("gen_time", "text", (c) => c.notNull())
        .addColumn("policy", "text", (c) => c.notNull())
        .addColumn("tsa_name", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("tree_checkpoint_timestamps_pk", ["checkpoint_key", "tsa_url", "serial_number"])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ["tree_checkpoint_timestamps", "timestamped_checkpoints", "witness_sizes"])
        await db.schema.dropTable(t).execute();
    },
  };
}
