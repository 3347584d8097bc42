import { sql, type Kysely } from "kysely";
import type { DialectName } from "../connect.js";

/**
 * witness_retries (issue 16): per checkpoint origin, the newest checkpoint not known to have its
 * witness quorum — its size, the rounds made, when the first started and the last ended, and the
 * witnesses still missing (JSON array of configured names) — so a restarted log resumes sending it
 * to them (server/log/witnessing/checkpoint-hook.ts), and `GET /v1/logs` can show it.
 */
export function makeWitnessRetries(dialect: DialectName) {
  const big = dialect === "postgres" ? sql`bigint` : sql`integer`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("witness_retries")
        .addColumn("origin", "text", (c) => c.primaryKey())
        .addColumn("issuer_id", "text", (c) => c.notNull())
        .addColumn("size", big, (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("since", "text", (c) => c.notNull())
        .addColumn("last_attempt_at", "text", (c) => c.notNull())
        .addColumn("missing", "text", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("witness_retries").execute();
    },
  };
}
