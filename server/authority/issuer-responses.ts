/**
 * An issuer's responses to key-usage alerts (issue 18), stored in `issuer_responses` (migration
 * 009): `suspendTokensOnCritical` (a critical alert about one of its agents suspends that agent's
 * tokens: token-suspension.ts) and `signingRateLimit` (each agent's signing-rate limit:
 * signing-rate.ts). Defaults: off, no limit. Set by the issuer (its own) or the operator (any).
 */
import type { Kysely } from "kysely";
import type { Principal } from "../auth/principal.js";
import type { Database } from "../db/schema.js";
import type { AppDeps } from "../deps.js";
import { NotFoundError } from "../errors.js";
import type { RateLimit } from "./token-bucket.js";

export interface ResponseSettings {
  suspendTokensOnCritical: boolean;
  signingRateLimit: RateLimit | null;
}

export const DEFAULT_RESPONSES: ResponseSettings = { suspendTokensOnCritical: false, signingRateLimit: null };

/** The accepted ranges (checked at the edge, routes/issuers.ts: 422 `ERR_INVALID_RATE_LIMIT`). */
export const RATE_LIMIT_RANGE = {
  perMinute: { min: 1, max: 60_000 },
  burst: { min: 1, max: 10_000 },
} as const;

/** The stored settings of `issuerId` (the defaults when it never set any). */
export async function readResponseSettings(db: Kysely<Database>, issuerId: string): Promise<ResponseSettings> {
  const row = await db
    .selectFrom("issuer_responses")
    .select(["suspend_on_critical", "rate_per_minute", "rate_burst"])
    .where("issuer_id", "=", issuerId)
    .executeTakeFirst();
  if (!row) return DEFAULT_RESPONSES;
  return {
    suspendTokensOnCritical: row.suspend_on_critical === 1,
    signingRateLimit:
      row.rate_per_minute !== null && row.rate_burst !== null
        ? { perMinute: Number(row.rate_per_minute), burst: Number(row.rate_burst) }
        : null,
  };
}

/** 404 `ERR_ISSUER_NOT_FOUND` unless `principal` may manage `issuerId`: the issuer itself, or the operator for an issuer that exists. */
async function assertManages(deps: AppDeps, principal: Principal, issuerId: string): Promise<void> {
  const missing = () => new NotFoundError(`Issuer ${issuerId} not found`, "ERR_ISSUER_NOT_FOUND");
  if (principal.role === "agent") throw missing();
  if (principal.role === "issuer") {
    if (principal.issuerId !== issuerId) throw missing(); // another issuer's: like an unknown id
    return;
  }
  const row = await deps.db.selectFrom("issuers").select("id").where("id", "=", issuerId).executeTakeFirst();
  if (!row) throw missing();
}

/** `GET /v1/issuers/{id}/responses`. */
export async function getIssuerResponses(
  deps: AppDeps,
  principal: Principal,
  issuerId: string,
): Promise<ResponseSettings> {
  await assertManages(deps, principal, issuerId);
  return readResponseSettings(deps.db, issuerId);
}

/** `PUT /v1/issuers/{id}/responses`: replaces the settings; this instance applies a new limit at once. */
export async function setIssuerResponses(
  deps: AppDeps,
  principal: Principal,
  issuerId: string,
  settings: ResponseSettings,
): Promise<ResponseSettings> {
  await assertManages(deps, principal, issuerId);
  const values = {
    suspend_on_critical: settings.suspendTokensOnCritical ? 1 : 0,
    rate_per_minute: settings.signingRateLimit?.perMinute ?? null,
    rate_burst: settings.signingRateLimit?.burst ?? null,
    updated_at: deps.now().toISOString(),
  };
  await deps.db
    .insertInto("issuer_responses")
    .values({ issuer_id: issuerId, ...values })
    .onConflict((oc) => oc.column("issuer_id").doUpdateSet(values))
    .execute();
  deps.signingRates.forget(issuerId);
  deps.logger.info({ issuerId, by: principal.role, ...settings }, "alert responses of the issuer changed");
  return readResponseSettings(deps.db, issuerId);
}
