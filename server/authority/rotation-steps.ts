/**
 * The steps of a rotation, each recorded in `rotations.step` so that a crashed rotation is finished
 * from where it stopped: create the new KMS key and store its ARN → issue the new certificate and
 * supersede the old one → disable the old key → append `key.rotated`.
 */
import type { AppDeps } from "../deps.js";
import type { RotationStep } from "../db/schema.js";
import { certificateKeyArn } from "./agent-records.js";
import { activeCertificateRow, newAgentKeyRow } from "./new-rows.js";
import { newId } from "./ids.js";
import { AGENT_TAG, ISSUER_TAG, ROTATION_TAG } from "./key-tags.js";
import { keyRotatedEntry, keyRotatedMatch } from "./lifecycle-entries.js";
import { SimulatedCrash } from "./simulated-crash.js";

/** A finished rotation; `resumed` when it was an interrupted one that this call completed. */
export interface RotationResult {
  rotationId: string;
  oldSerial: string;
  newSerial: string;
  newKeyArn: string;
  resumed: boolean;
}

/** Options of a rotation. */
export interface RotateOptions {
  /** Tests: stop (as if crashed) once the rotation has reached this step. */
  stopAfter?: RotationStep;
}

/** The agent a rotation works on (its issuer's name is the O= of the new certificate). */
export interface RotatingAgent {
  id: string;
  issuer_id: string;
  issuer_name: string;
  name: string;
}

/** Records a new rotation of the agent's active certificate `oldSerial` (step `started`); returns its id. */
export async function startRotation(deps: AppDeps, agentId: string, oldSerial: string): Promise<string> {
  const id = newId("rot");
  await deps.db
    .insertInto("rotations")
    .values({
      id,
      agent_id: agentId,
      old_serial: oldSerial,
      new_key_arn: null,
      new_serial: null,
      step: "started",
      created_at: deps.now().toISOString(),
      completed_at: null,
    })
    .execute();
  return id;
}

/** The id of the agent's unfinished rotation, if any. */
export async function pendingRotationId(deps: AppDeps, agentId: string): Promise<string | undefined> {
  const pending = await deps.db
    .selectFrom("rotations")
    .select("id")
    .where("agent_id", "=", agentId)
    .where("completed_at", "is", null)
    .executeTakeFirst();
  return pending?.id;
}

/** Runs rotation `rotationId` from its recorded step to `completed`. Call under the agent lock. */
export async function runRotation(
  deps: AppDeps,
  agent: RotatingAgent,
  rotationId: string,
  resumed: boolean,
  opts: RotateOptions,
): Promise<RotationResult> {
  const { db, custody, ca } = deps;
  const load = () => db.selectFrom("rotations").selectAll().where("id", "=", rotationId).executeTakeFirstOrThrow();
  let rot = await load();
  const stop = (step: RotationStep) => opts.stopAfter === step;
  if (stop(rot.step)) throw new SimulatedCrash(rot.step);

  if (rot.step === "started") {
    // 1. create the new KMS key (same policy/tags + the rotation tag) — or find the one a crashed attempt made.
    const existing = await custody.findKeysByTag(ROTATION_TAG, rotationId);
    let arn = existing[0];
    if (!arn) {
      ({ arn } = await custody.createSigningKey({
        purpose: "agent",
        tags: { [AGENT_TAG]: agent.id, [ISSUER_TAG]: agent.issuer_id, [ROTATION_TAG]: rotationId },
        description: `Kakunin agent ${agent.id} (${agent.name}) of issuer ${agent.issuer_id}, rotation ${rotationId}`,
      }));
    }
    // 2. store its ARN (with its public key, captured once).
    const publicKey = await custody.getPublicKey(arn);
    const t = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      const known = await trx.selectFrom("keys").select("arn").where("arn", "=", arn).executeTakeFirst();
      if (!known)
        await trx
          .insertInto("keys")
          .values(newAgentKeyRow(arn, agent.id, publicKey, t))
          .execute();
      await trx
        .updateTable("rotations")
        .set({ new_key_arn: arn, step: "key_created" })
        .where("id", "=", rotationId)
        .execute();
    });
    rot = await load();
    if (stop("key_created")) throw new SimulatedCrash("key_created");
  }

  if (rot.step === "key_created") {
    // 3. issue the new certificate; 4. mark the old one superseded — stored atomically, so there is
    // exactly one active certificate at every point.
    const newKeyArn = rot.new_key_arn!;
    const key = await db.selectFrom("keys").select("public_key").where("arn", "=", newKeyArn).executeTakeFirstOrThrow();
    const cert = await ca.issueAgentCertificate({
      agentId: agent.id,
      issuerName: agent.issuer_name,
      publicKey: new Uint8Array(key.public_key),
      notBefore: deps.now(),
    });
    const t = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto("certificates")
        .values(activeCertificateRow(cert, { role: "agent", keyArn: newKeyArn, agentId: agent.id, createdAt: t }))
        .execute();
      await trx
        .updateTable("certificates")
        .set({ status: "superseded", superseded_at: t })
        .where("serial", "=", rot.old_serial)
        .where("status", "=", "active")
        .execute();
      await trx
        .updateTable("rotations")
        .set({ new_serial: cert.serial, step: "old_superseded" })
        .where("id", "=", rotationId)
        .execute();
    });
    rot = await load();
    if (stop("old_superseded")) throw new SimulatedCrash("old_superseded");
  }

  if (rot.step === "old_superseded") {
    // 5. disable the old KMS key (idempotent).
    const oldKeyArn = await certificateKeyArn(deps, rot.old_serial);
    await custody.disableKey(oldKeyArn);
    const t = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable("keys")
        .set({ state: "Disabled", disabled_at: t })
        .where("arn", "=", oldKeyArn)
        .where("disabled_at", "is", null)
        .execute();
      await trx.updateTable("rotations").set({ step: "old_key_disabled" }).where("id", "=", rotationId).execute();
    });
    rot = await load();
    if (stop("old_key_disabled")) throw new SimulatedCrash("old_key_disabled");
  }

  if (rot.step === "old_key_disabled") {
    // Lifecycle entry last; the step only completes once it is appended (a retry appends it).
    if (
      deps.log &&
      !(await deps.log.findLifecycle(agent.issuer_id, "key.rotated", agent.id, keyRotatedMatch(rotationId)))
    ) {
      const oldKeyArn = await certificateKeyArn(deps, rot.old_serial);
      await deps.log.appendLifecycle(
        agent.issuer_id,
        keyRotatedEntry(agent.id, {
          rotationId,
          oldSerial: rot.old_serial,
          oldKeyArn,
          newSerial: rot.new_serial,
          newKeyArn: rot.new_key_arn,
        }),
      );
    }
    await db
      .updateTable("rotations")
      .set({ step: "completed", completed_at: deps.now().toISOString() })
      .where("id", "=", rotationId)
      .execute();
    rot = await load();
  }
  return { rotationId, oldSerial: rot.old_serial, newSerial: rot.new_serial!, newKeyArn: rot.new_key_arn!, resumed };
}
