/**
 * The authority's own KMS keys — the CA key, the log signer key and the Ed25519 checkpoint key of
 * log v2 (`tlog`) — found or created on first start, each recorded once in `keys` (with its public key) and in `system` (by ARN).
 */
import type { Kysely } from "kysely";
import type { Database, KeyPurpose } from "../db/schema.js";
import { systemValue } from "../db/views.js";
import type { KeyCustody, SigningKeySpec } from "../kms/custody.js";

/** KMS alias of the CA key. */
export const CA_ALIAS = "alias/kakunin/ca";
/** KMS alias of the log signer key. */
export const LOG_ALIAS = "alias/kakunin/log";
/** KMS alias of the log v2 checkpoint key (Ed25519; signs every issuer's signed-note checkpoints). */
export const TLOG_ALIAS = "alias/kakunin/tlog";

const ALIASES: Record<SystemKeyPurpose, string> = { ca: CA_ALIAS, log: LOG_ALIAS, tlog: TLOG_ALIAS };
const DESCRIPTIONS: Record<SystemKeyPurpose, string> = {
  ca: "Kakunin certificate authority key",
  log: "Kakunin audit log signer key",
  tlog: "Kakunin log checkpoint key (Ed25519, C2SP signed notes)",
};

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
  keySpec: SigningKeySpec;
}

/** The alias, tags, description, key spec and `system` row of a system key. */
export function systemKeySpec(purpose: SystemKeyPurpose): SystemKeySpec {
  return {
    systemName: `${purpose}_key_arn`,
    alias: ALIASES[purpose],
    tags: { "kakunin:role": purpose },
    description: DESCRIPTIONS[purpose],
    keySpec: purpose === "tlog" ? "ECC_NIST_EDWARDS25519" : "RSA_2048",
  };
}

/** The ARN and public key (DER SPKI) of a system key, created (or found by alias) on first use. */
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
      (
        await custody.createSigningKey({
          purpose,
          alias: spec.alias,
          tags: spec.tags,
          description: spec.description,
          keySpec: spec.keySpec,
        })
      ).arn;
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

/** The recorded ARN and public key (DER SPKI) of a system key, without calling KMS; undefined before first start. */
export async function storedSystemKey(
  db: Kysely<Database>,
  purpose: SystemKeyPurpose,
): Promise<{ arn: string; publicKey: Uint8Array } | undefined> {
  const arn = await systemValue(db, systemKeySpec(purpose).systemName);
  if (!arn) return undefined;
  const row = await db.selectFrom("keys").select("public_key").where("arn", "=", arn).executeTakeFirst();
  return row ? { arn, publicKey: new Uint8Array(row.public_key) } : undefined;
}
