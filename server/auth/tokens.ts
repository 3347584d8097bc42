import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database, Role } from "../db/schema.js";

export const TOKEN_PREFIX: Record<Role, string> = { operator: "kkn_op_", issuer: "kkn_iss_", agent: "kkn_agt_" };

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function generateToken(role: Role): string {
  return TOKEN_PREFIX[role] + randomBytes(32).toString("base64url");
}

/** Mint a token of `role`, store only its SHA-256 hash, return the plaintext once. */
export async function mintToken(
  db: Kysely<Database>,
  role: Role,
  scope: { issuerId?: string; agentId?: string },
  now: Date,
): Promise<string> {
  const token = generateToken(role);
  await storeTokenHash(db, hashToken(token), role, scope, now);
  return token;
}

export async function storeTokenHash(
  db: Kysely<Database>,
  tokenHash: string,
  role: Role,
  scope: { issuerId?: string; agentId?: string },
  now: Date,
): Promise<void> {
  await db
    .insertInto("tokens")
    .values({
      id: `tok_${randomUUID().replace(/-/g, "")}`,
      token_hash: tokenHash,
      role,
      issuer_id: scope.issuerId ?? null,
      agent_id: scope.agentId ?? null,
      created_at: now.toISOString(),
      revoked_at: null,
      suspended_at: null,
      suspended_by_alert: null,
    })
    .execute();
}
