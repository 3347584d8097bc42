/** CRL publication: the next cRLNumber, signed by the CA, listing every revoked agent certificate. */
import type { RevocationReason } from "../ca/crl.js";
import type { AppDeps } from "../deps.js";
import { ConflictError, KakuninError, storageFailure } from "../errors.js";
import { latestCrl } from "../db/views.js";
import { crlNextUpdate, crlRefreshDue } from "./renewal-policy.js";

/** A published CRL: its number and nextUpdate (ISO). */
export interface PublishedCrl {
  number: number;
  nextUpdate: string;
}

/**
 * Signs and stores a new CRL. Instances race for the next number: the loser signs again with the
 * one after (five attempts, then 409 `ERR_CRL_CONFLICT`).
 */
export async function publishCrl(deps: AppDeps): Promise<PublishedCrl> {
  const { db, ca } = deps;
  for (let attempt = 0; attempt < 5; attempt++) {
    const last = await db.selectFrom("crls").select("number").orderBy("number", "desc").limit(1).executeTakeFirst();
    const number = Number(last?.number ?? 0) + 1;
    const revoked = await db
      .selectFrom("certificates")
      .select(["serial", "revoked_at", "revocation_reason"])
      .where("status", "=", "revoked")
      .orderBy("revoked_at")
      .execute();
    const thisUpdate = deps.now();
    const nextUpdate = crlNextUpdate(thisUpdate, deps.config.crlValidityDays);
    const crl = await ca.signCrl({
      number,
      thisUpdate,
      nextUpdate,
      revoked: revoked.map((r) => ({
        serial: r.serial,
        revokedAt: new Date(r.revoked_at!),
        reason: (r.revocation_reason ?? "unspecified") as RevocationReason,
      })),
    });
    try {
      await db
        .insertInto("crls")
        .values({
          number,
          der: crl.der,
          this_update: thisUpdate.toISOString(),
          next_update: nextUpdate.toISOString(),
          created_at: thisUpdate.toISOString(),
        })
        .execute();
      return { number, nextUpdate: nextUpdate.toISOString() };
    } catch (e) {
      if (e instanceof KakuninError) throw e;
      const full = storageFailure(e);
      if (full) throw full;
      // Another instance took this number; sign again with the next one.
    }
  }
  throw new ConflictError("ERR_CRL_CONFLICT", "Could not publish a CRL (concurrent publication); retry");
}

/** Publishes the first CRL if none exists yet (first start). */
export async function ensureFirstCrl(deps: AppDeps): Promise<void> {
  const crl = await deps.db.selectFrom("crls").select("number").limit(1).executeTakeFirst();
  if (!crl) await publishCrl(deps);
}

/** Maintenance: publishes a new CRL when the renewal policy says the latest one is about to go stale. */
export async function refreshCrlIfDue(deps: AppDeps): Promise<PublishedCrl | undefined> {
  const crl = await latestCrl(deps.db);
  if (!crlRefreshDue(crl?.next_update, deps.now(), deps.config.crlValidityDays)) return undefined;
  return publishCrl(deps);
}
