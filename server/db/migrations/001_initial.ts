import { sql, type Kysely } from "kysely";
import type { DialectName } from "../connect.js";

// Column types differing between dialects are chosen here and nowhere else.
export function makeInitial(dialect: DialectName) {
  const blob = dialect === "postgres" ? sql`bytea` : sql`blob`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("issuers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("agents")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("issuer_id", "text", (c) => c.notNull().references("issuers.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("agents_issuer_idx").on("agents").column("issuer_id").execute();
      await db.schema
        .createTable("tokens")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("issuer_id", "text", (c) => c.references("issuers.id"))
        .addColumn("agent_id", "text", (c) => c.references("agents.id"))
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("revoked_at", "text")
        .execute();
      await db.schema
        .createTable("keys")
        .addColumn("arn", "text", (c) => c.primaryKey())
        .addColumn("agent_id", "text", (c) => c.references("agents.id"))
        .addColumn("purpose", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("public_key", blob, (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("disabled_at", "text")
        .execute();
      await db.schema.createIndex("keys_agent_idx").on("keys").column("agent_id").execute();
      await db.schema
        .createTable("certificates")
        .addColumn("serial", "text", (c) => c.primaryKey())
        .addColumn("agent_id", "text", (c) => c.references("agents.id"))
        .addColumn("key_arn", "text", (c) => c.notNull().references("keys.arn"))
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("der", blob, (c) => c.notNull())
        .addColumn("not_before", "text", (c) => c.notNull())
        .addColumn("not_after", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("superseded_at", "text")
        .addColumn("revoked_at", "text")
        .addColumn("revocation_reason", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("certificates_agent_idx").on("certificates").column("agent_id").execute();
      await db.schema
        .createTable("crls")
        .addColumn("number", "integer", (c) => c.primaryKey())
        .addColumn("der", blob, (c) => c.notNull())
        .addColumn("this_update", "text", (c) => c.notNull())
        .addColumn("next_update", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("rotations")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("agent_id", "text", (c) => c.notNull().references("agents.id"))
        .addColumn("old_serial", "text", (c) => c.notNull())
        .addColumn("new_key_arn", "text")
        .addColumn("new_serial", "text")
        .addColumn("step", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("completed_at", "text")
        .execute();
      await db.schema.createIndex("rotations_agent_idx").on("rotations").column("agent_id").execute();
      await db.schema
        .createTable("revocations")
        .addColumn("serial", "text", (c) => c.primaryKey().references("certificates.serial"))
        .addColumn("agent_id", "text", (c) => c.notNull().references("agents.id"))
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("revoked_at", "text", (c) => c.notNull())
        .addColumn("step", "text", (c) => c.notNull())
        .addColumn("crl_number", "integer")
        .addColumn("completed_at", "text")
        .execute();
      await db.schema
        .createTable("system")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("leases")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("owner", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const t of [
        "leases",
        "system",
        "revocations",
        "rotations",
        "crls",
        "certificates",
        "keys",
        "tokens",
        "agents",
        "issuers",
      ]) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}
