import type { Kysely } from "kysely";
import type { DialectName } from "../connect.js";

/**
 * Responses to key-usage alerts, per issuer (issue 18):
 * - issuer_responses: whether a critical alert about an agent suspends the agent's tokens, and the
 *   agent's signing-rate limit (per minute and burst; both null = no limit). No row = the defaults
 *   (off, no limit).
 * - tokens.suspended_at / suspended_by_alert: a suspended token (never deleted; its hash stays) and
 *   the id of the alert that suspended it, until the issuer resumes it.
 */
export function makeAlertResponses(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("issuer_responses")
        .addColumn("issuer_id", "text", (c) => c.primaryKey().references("issuers.id"))
        .addColumn("suspend_on_critical", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("rate_per_minute", "integer")
        .addColumn("rate_burst", "integer")
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.alterTable("tokens").addColumn("suspended_at", "text").execute();
      await db.schema.alterTable("tokens").addColumn("suspended_by_alert", "text").execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable("tokens").dropColumn("suspended_by_alert").execute();
      await db.schema.alterTable("tokens").dropColumn("suspended_at").execute();
      await db.schema.dropTable("issuer_responses").execute();
    },
  };
}
