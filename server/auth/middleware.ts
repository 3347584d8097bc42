import { createMiddleware } from "hono/factory";
import type { Context } from "hono";
import type { AppEnv } from "../http/env.js";
import { ForbiddenError, TokenSuspendedError, UnauthorizedError } from "../errors.js";
import { hashToken } from "./tokens.js";
import { readRequestBody } from "../http/body.js";
import type { Role } from "../db/schema.js";
import type { Principal } from "./principal.js";

export type { Principal } from "./principal.js";

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/;

/**
 * Resolve the bearer token to a principal; 401 (with WWW-Authenticate) if missing or unknown, 403
 * `ERR_TOKEN_SUSPENDED` if a critical alert suspended it (server/authority/token-suspension.ts).
 */
export async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const header = c.req.header("authorization");
  const m = header ? BEARER.exec(header.trim()) : null;
  if (!m || !m[1])
    throw new UnauthorizedError(
      header ? "Malformed Authorization header (expected Bearer token)" : "A bearer token is required",
    );
  const { db } = c.get("deps");
  const row = await db
    .selectFrom("tokens")
    .select(["id", "role", "issuer_id", "agent_id", "suspended_at", "suspended_by_alert"])
    .where("token_hash", "=", hashToken(m[1]))
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (!row) throw new UnauthorizedError("Unknown or revoked token");
  c.set("tokenId", row.id);
  if (row.suspended_at !== null)
    throw new TokenSuspendedError(row.suspended_by_alert ?? "(unknown)", row.agent_id ?? "(none)", row.suspended_at);
  if (row.role === "operator") return { role: "operator" };
  if (row.role === "issuer" && row.issuer_id) return { role: "issuer", issuerId: row.issuer_id };
  if (row.role === "agent" && row.issuer_id && row.agent_id)
    return { role: "agent", issuerId: row.issuer_id, agentId: row.agent_id };
  throw new UnauthorizedError("Unknown or revoked token");
}

/**
 * Route middleware: authenticate and require one of `roles` (403 otherwise), then — and only then —
 * read and check the request body (server/http/body.ts), so no unauthenticated byte is buffered.
 * Sets `principal`.
 */
export function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = await authenticate(c);
    if (!roles.includes(principal.role)) throw new ForbiddenError(`This route requires the ${roles.join(" or ")} role`);
    c.set("principal", principal);
    await readRequestBody(c);
    await next();
  });
}

export function issuerOf(p: Principal): string {
  if (p.role === "operator") throw new ForbiddenError();
  return p.issuerId;
}
