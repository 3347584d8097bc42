/** The operator's bearer token: stored as a hash only, generated once on first start unless one is configured. */
import type { Kysely } from "kysely";
import { generateToken, hashToken, storeTokenHash } from "../auth/tokens.js";
import type { Database } from "../db/schema.js";

/**
 * A configured token (KAKUNIN_OPERATOR_TOKEN) is stored (hash only) if it is not yet; without one,
 * a token is generated if no operator token exists. Returns the plaintext only when generated here.
 */
export async function ensureOperatorToken(
  db: Kysely<Database>,
  configured: string | undefined,
  now: () => Date,
): Promise<string | undefined> {
  if (configured) {
    const h = hashToken(configured);
    const row = await db.selectFrom("tokens").select("id").where("token_hash", "=", h).executeTakeFirst();
    if (!row) await storeTokenHash(db, h, "operator", {}, now());
    return undefined;
  }
  const any = await db.selectFrom("tokens").select("id").where("role", "=", "operator").limit(1).executeTakeFirst();
  if (any) return undefined;
  const token = generateToken("operator");
  await storeTokenHash(db, hashToken(token), "operator", {}, now());
  return token;
}

/** Revoke every operator token and mint a new one (for `--new-operator-token`). Returns it once. */
export async function rotateOperatorToken(db: Kysely<Database>, now: Date): Promise<string> {
  const token = generateToken("operator");
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable("tokens")
      .set({ revoked_at: now.toISOString() })
      .where("role", "=", "operator")
      .where("revoked_at", "is", null)
      .execute();
    await storeTokenHash(trx, hashToken(token), "operator", {}, now);
  });
  return token;
}
