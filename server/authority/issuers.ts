/** Issuers: the organisations that run agents (their name becomes O= in agent certificates). */
import type { AppDeps } from "../deps.js";
import { mintToken } from "../auth/tokens.js";
import { newId } from "./ids.js";

/** A new issuer and its bearer token (plaintext, shown once; only its hash is stored). */
export interface CreatedIssuer {
  id: string;
  name: string;
  token: string;
}

/** Creates issuer `name` and its first token in one transaction. */
export async function createIssuer(deps: AppDeps, name: string): Promise<CreatedIssuer> {
  const { db, now } = deps;
  const id = newId("iss");
  const t = now();
  const token = await db.transaction().execute(async (trx) => {
    await trx.insertInto("issuers").values({ id, name, created_at: t.toISOString() }).execute();
    return mintToken(trx, "issuer", { issuerId: id }, t);
  });
  return { id, name, token };
}

/** Every issuer's id and name, oldest first. */
export async function listIssuers(deps: AppDeps): Promise<{ id: string; name: string }[]> {
  return deps.db.selectFrom("issuers").select(["id", "name"]).orderBy("created_at").orderBy("id").execute();
}
