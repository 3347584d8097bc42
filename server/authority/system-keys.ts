/**
 * The authority's own KMS keys — the CA key and the log signer key — found or created on first
 * start, each recorded once in `keys` (with its public key) and in `system` (by ARN).
 */
import type { Kysely } from "kysely";
import type { Database, KeyPurpose } from "../db/schema.js";
import { systemValue } from "../db/views.js";
import type { KeyCustody } from "../kms/custody.js";

/** KMS alias of the CA key. */
export const CA_ALIAS = "alias/kakunin/ca";
/** KMS alias of the log signer key. */
export const LOG_ALIAS = "alias/kakunin/log";

/** A key the authority holds for itself rather than for an agent. */
export type SystemKeyPurpose = Exclude<KeyPurpose, "agent">;

/** Where the authority's first-start set-up reads and writes. */
export interface SetupContext {
  db: Kysely<Database>;
  custody: KeyCustody;
  now: () => Date;
}

/** How a system key is named in KMS and recorded in `system`. */
export interface SystemKeySpec {
  /** `system` row holding the key's ARN */
  systemName: string;
  alias: string;
  tags: Record<string, string>;
  description: string;
}

/** The alias, tags, description and `system` row of the CA or log signer key. */
export function systemKeySpec(purpose: SystemKeyPurpose): SystemKeySpec {
  return {
    systemName: `${purpose}_key_arn`,
    alias: purpose === "ca" ? CA_ALIAS : LOG_ALIAS,
    tags: { "kakunin:role": purpose },
    description: `Kakunin ${purpose === "ca" ? "certificate authority" : "audit log signer"} key`,
  };
}

/** The ARN and public key of the CA or log signer key, created (or found by alias) on first use. */
export async function ensureSystemKey(
  ctx: SetupContext,
  purpose: SystemKeyPurpose,
): Promise<{ arn: string; publicKey: Uint8Array }> {
  const { db, custody } = ctx;
  const spec = systemKeySpec(purpose);
  let arn = await systemValue(db, spec.systemName);
  if (!arn) {
    // A crash between CreateKey and storing the ARN leaves an aliased key: find it first.
    arn =
      (await custody.findKeyByAlias(spec.alias)) ??
      (await custody.createSigningKey({ purpose, alias: spec.alias, tags: spec.tags, description: spec.description }))
        .arn;
  }
  const known = await db.selectFrom("keys").select("public_key").where("arn", "=", arn).executeTakeFirst();
  if (known) return { arn, publicKey: new Uint8Array(known.public_key) };
  const publicKey = await custody.getPublicKey(arn);
  const t = ctx.now().toISOString();
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto("keys")
      .values({
        arn,
        agent_id: null,
        purpose,
        state: "Enabled",
        public_key: publicKey,
        created_at: t,
        disabled_at: null,
      })
      .execute();
    const stored = await trx
      .selectFrom("system")
      .select("value")
      .where("name", "=", spec.systemName)
      .executeTakeFirst();
    if (!stored) await trx.insertInto("system").values({ name: spec.systemName, value: arn }).execute();
  });
  return { arn, publicKey };
}
