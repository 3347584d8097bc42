/**
 * Rotation of the log v2 checkpoint key (alias/kakunin/tlog), like other keys: a new Ed25519 key in
 * KMS signs the next checkpoints; the old key is disabled in KMS (never scheduled for deletion) and
 * recorded Disabled in `keys`, and its verifier key stays published (server/authority/log-keys.ts),
 * so checkpoints and receipts signed before keep verifying.
 *
 * Steps, recorded in `system.tlog_rotation` so a crash at any point is finished by the next call:
 * `started` (intent, old ARN) → `key_created` (new key created with the rotation's tag, its public
 * key recorded in `keys`, Enabled but not yet signing) → `switched` (alias and `system.tlog_key_arn`
 * moved: every instance signs with the new key from its next publication round) → done (old key
 * disabled in KMS, then Disabled with `disabled_at` in `keys`; the record removed).
 * `prepare` stops after `key_created`: witnesses can be given the new verifier key before any
 * checkpoint is signed with it; the next call switches.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { withLease, LeaseBusyError } from "../db/lease.js";
import { systemValue } from "../db/views.js";
import { ConflictError } from "../errors.js";
import type { KeyCustody } from "../kms/custody.js";
import { ed25519PublicKeyFromSpki, type CheckpointKey } from "../log/tree/log-key.js";
import { newId } from "./ids.js";
import { ROTATION_TAG } from "./key-tags.js";
import { currentCheckpointKey } from "./log-keys.js";
import { SimulatedCrash } from "./simulated-crash.js";
import { systemKeySpec } from "./system-keys.js";

const RECORD = "tlog_rotation";
const LEASE = "log-key-rotation";

export type LogKeyRotationStep = "started" | "key_created" | "switched";

interface RotationRecord {
  id: string;
  step: LogKeyRotationStep;
  /** the key being retired */
  from: string;
  /** the new key, from `key_created` on */
  to?: string;
}

/** What a rotation call did. */
export interface LogKeyRotationResult {
  /** `prepared`: the new key exists and is recorded, not yet signing; `rotated`: it signs, the old one is disabled. */
  status: "prepared" | "rotated";
  rotationId: string;
  previous: CheckpointKey;
  next: CheckpointKey;
  /** true when this call finished a rotation an earlier call (or a crash) left unfinished */
  resumed: boolean;
}

export interface RotateLogKeyContext {
  db: Kysely<Database>;
  custody: KeyCustody;
  now: () => Date;
}

export interface RotateLogKeyOptions {
  /** Stop once the new key exists (publish its verifier key to witnesses first, then call again). */
  prepare?: boolean;
  /** Tests: stop (as if crashed) once this step is recorded — or, `CreateKey`, right after KMS made the key, before it is recorded. */
  stopAfter?: LogKeyRotationStep | "CreateKey";
}

async function loadRecord(db: Kysely<Database>): Promise<RotationRecord | undefined> {
  const raw = await systemValue(db, RECORD);
  return raw ? (JSON.parse(raw) as RotationRecord) : undefined;
}

async function saveRecord(db: Kysely<Database>, r: RotationRecord): Promise<void> {
  const value = JSON.stringify(r);
  const res = await db.updateTable("system").set({ value }).where("name", "=", RECORD).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) await db.insertInto("system").values({ name: RECORD, value }).execute();
}

async function keyOf(db: Kysely<Database>, arn: string): Promise<CheckpointKey> {
  const row = await db.selectFrom("keys").select("public_key").where("arn", "=", arn).executeTakeFirstOrThrow();
  return { arn, publicKey: ed25519PublicKeyFromSpki(new Uint8Array(row.public_key)) };
}

/**
 * Rotates the checkpoint key (or, with `prepare`, only creates the next one), finishing first any
 * rotation left unfinished. One at a time across instances: a concurrent call gets 409
 * `ERR_OPERATION_IN_PROGRESS`.
 */
export async function rotateLogKey(
  ctx: RotateLogKeyContext,
  opts: RotateLogKeyOptions = {},
): Promise<LogKeyRotationResult> {
  try {
    return await withLease(ctx.db, LEASE, () => runRotation(ctx, opts), { waitMs: 0 });
  } catch (e) {
    if (e instanceof LeaseBusyError)
      throw new ConflictError("ERR_OPERATION_IN_PROGRESS", "A log key rotation is under way in another process");
    throw e;
  }
}

async function runRotation(ctx: RotateLogKeyContext, opts: RotateLogKeyOptions): Promise<LogKeyRotationResult> {
  const { db, custody } = ctx;
  const spec = systemKeySpec("tlog");
  let rec = await loadRecord(db);
  const resumed = rec !== undefined;
  const stop = (step: LogKeyRotationStep | "CreateKey") => {
    if (opts.stopAfter === step) throw new SimulatedCrash(step);
  };
  if (!rec) {
    rec = { id: newId("lkr"), step: "started", from: (await currentCheckpointKey(db)).arn };
    await saveRecord(db, rec);
    stop("started");
  }

  if (rec.step === "started") {
    // The new key, tagged with the rotation's id — or the one a crashed attempt created.
    let arn = (await custody.findKeysByTag(ROTATION_TAG, rec.id))[0];
    arn ??= (
      await custody.createSigningKey({
        purpose: "tlog",
        tags: { ...spec.tags, [ROTATION_TAG]: rec.id },
        description: `${spec.description}, rotation ${rec.id}`,
        keySpec: spec.keySpec,
      })
    ).arn;
    stop("CreateKey");
    const spki = await custody.getPublicKey(arn);
    ed25519PublicKeyFromSpki(spki); // refuse anything but an Ed25519 key before recording it
    const t = ctx.now().toISOString();
    const next: RotationRecord = { ...rec, step: "key_created", to: arn };
    await db.transaction().execute(async (trx) => {
      const known = await trx.selectFrom("keys").select("arn").where("arn", "=", arn).executeTakeFirst();
      if (!known)
        await trx
          .insertInto("keys")
          .values({
            arn,
            agent_id: null,
            purpose: "tlog",
            state: "Enabled",
            public_key: spki,
            created_at: t,
            disabled_at: null,
          })
          .execute();
      await trx
        .updateTable("system")
        .set({ value: JSON.stringify(next) })
        .where("name", "=", RECORD)
        .execute();
    });
    rec = next;
    stop("key_created");
  }

  const previous = await keyOf(db, rec.from);
  const next = await keyOf(db, rec.to!);
  if (rec.step === "key_created" && opts.prepare)
    return { status: "prepared", rotationId: rec.id, previous, next, resumed };

  if (rec.step === "key_created") {
    // The alias first (it only serves lookups at first start), then the row every publisher reads.
    await custody.updateAlias(spec.alias, next.arn);
    const moved: RotationRecord = { ...rec, step: "switched" };
    await db.transaction().execute(async (trx) => {
      await trx.updateTable("system").set({ value: next.arn }).where("name", "=", spec.systemName).execute();
      await trx
        .updateTable("system")
        .set({ value: JSON.stringify(moved) })
        .where("name", "=", RECORD)
        .execute();
    });
    rec = moved;
    stop("switched");
  }

  // Retire the old key: disabled in KMS (idempotent; never deleted), then recorded so.
  await custody.disableKey(previous.arn);
  const t = ctx.now().toISOString();
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable("keys")
      .set({ state: "Disabled", disabled_at: t })
      .where("arn", "=", previous.arn)
      .where("disabled_at", "is", null)
      .execute();
    await trx.deleteFrom("system").where("name", "=", RECORD).execute();
  });
  return { status: "rotated", rotationId: rec.id, previous, next, resumed };
}
