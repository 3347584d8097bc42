/**
 * Agent lifecycle: registration, rotation and revocation (the domain logic behind routes/agents.ts,
 * also used by the renewal scheduler). Each operation is resumable and leaves no partial writes.
 */
import { ConflictError, KakuninError, NotFoundError, storageFailure } from "../errors.js";
import type { AppDeps } from "../deps.js";
import type { RevocationStep, RotationStep } from "../db/schema.js";
import { withLease, LeaseBusyError } from "../db/lease.js";
import { newId } from "./ids.js";
import type { RevocationReason as RevocationReasonName } from "@kakunin/verifier/formats";
export { REVOCATION_REASONS } from "@kakunin/verifier/formats";
export type { RevocationReasonName };

export const AGENT_TAG = "kakunin:agent";
export const ISSUER_TAG = "kakunin:issuer";
export const ROTATION_TAG = "kakunin:rotation";

const DAY = 86_400_000;

/** Serialise lifecycle operations per agent across processes. */
async function withAgentLock<T>(deps: AppDeps, agentId: string, fn: () => Promise<T>, opts: { waitMs?: number } = {}): Promise<T> {
  try {
    return await withLease(deps.db, `agent:${agentId}`, fn, { waitMs: opts.waitMs ?? 15_000, pollMs: 50, logger: deps.logger });
  } catch (e) {
    if (e instanceof LeaseBusyError) throw new ConflictError("ERR_OPERATION_IN_PROGRESS", "Another lifecycle operation on this agent is in progress; retry later");
    throw e;
  }
}

async function bestEffortDisable(deps: AppDeps, arn: string): Promise<void> {
  try {
    await deps.custody.disableKey(arn);
  } catch (e) {
    deps.logger.error({ keyArn: arn, err: { name: (e as Error).name, message: (e as Error).message } }, "could not disable key after failed operation");
  }
}

async function loadOwnedAgent(deps: AppDeps, issuerId: string, agentId: string) {
  const agent = await deps.db.selectFrom("agents").innerJoin("issuers", "issuers.id", "agents.issuer_id")
    .select(["agents.id", "agents.name", "agents.status", "agents.issuer_id", "issuers.name as issuer_name"])
    .where("agents.id", "=", agentId).where("agents.issuer_id", "=", issuerId)
    .executeTakeFirst();
  if (!agent) throw new NotFoundError(`Agent ${agentId} not found`, "ERR_AGENT_NOT_FOUND");
  return agent;
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------
export interface RegisteredAgent {
  id: string;
  name: string;
  keyArn: string;
  certificate: { serial: string; pem: string; notBefore: string; notAfter: string };
}

export async function registerAgent(deps: AppDeps, issuerId: string, name: string): Promise<RegisteredAgent> {
  const { db, custody, ca } = deps;
  const issuer = await db.selectFrom("issuers").select(["id", "name"]).where("id", "=", issuerId).executeTakeFirst();
  if (!issuer) throw new NotFoundError("Issuer not found");
  const agentId = newId("agt");
  const { arn } = await custody.createSigningKey({
    purpose: "agent",
    tags: { [AGENT_TAG]: agentId, [ISSUER_TAG]: issuerId },
    description: `Kakunin agent ${agentId} (${name}) of issuer ${issuerId}`,
  });
  let committed = false;
  try {
    const publicKey = await custody.getPublicKey(arn);
    const cert = await ca.issueAgentCertificate({ agentId, issuerName: issuer.name, publicKey, notBefore: deps.now() });
    const t = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("agents").values({ id: agentId, issuer_id: issuerId, name, status: "active", created_at: t }).execute();
      await trx.insertInto("keys").values({ arn, agent_id: agentId, purpose: "agent", state: "Enabled", public_key: publicKey, created_at: t, disabled_at: null }).execute();
      await trx.insertInto("certificates").values({
        serial: cert.serial, agent_id: agentId, key_arn: arn, role: "agent", der: cert.der,
        not_before: cert.notBefore.toISOString(), not_after: cert.notAfter.toISOString(), status: "active",
        superseded_at: null, revoked_at: null, revocation_reason: null, created_at: t,
      }).execute();
    });
    committed = true;
    if (deps.log) {
      await deps.log.appendLifecycle(issuerId, {
        type: "agent.registered", agent: agentId,
        details: { name, cert: cert.serial, key: arn, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() },
      });
    }
    return {
      id: agentId, name, keyArn: arn,
      certificate: { serial: cert.serial, pem: cert.pem, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() },
    };
  } catch (e) {
    // No partial writes: undo the rows (if any), disable the new key, write nothing else.
    if (committed) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom("certificates").where("agent_id", "=", agentId).execute();
        await trx.deleteFrom("keys").where("agent_id", "=", agentId).execute();
        await trx.deleteFrom("agents").where("id", "=", agentId).execute();
      }).catch((err) => deps.logger.error({ agentId, err: String(err) }, "could not undo registration"));
    }
    await bestEffortDisable(deps, arn);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Rotation: create new key → store ARN → issue new cert → supersede old → disable old key → log
// ---------------------------------------------------------------------------------------------
export interface RotationResult { rotationId: string; oldSerial: string; newSerial: string; newKeyArn: string; resumed: boolean }
export interface RotateOptions {
  /** Tests: stop (as if crashed) once the rotation has reached this step. */
  stopAfter?: RotationStep;
}

export async function rotateAgent(deps: AppDeps, issuerId: string, agentId: string, opts: RotateOptions = {}): Promise<RotationResult> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  return withAgentLock(deps, agentId, async () => {
    const pending = await deps.db.selectFrom("rotations").selectAll().where("agent_id", "=", agentId)
      .where("completed_at", "is", null).orderBy("created_at", "desc").executeTakeFirst();
    if (pending) return runRotation(deps, agent, pending.id, true, opts);
    const fresh = await deps.db.selectFrom("agents").select("status").where("id", "=", agentId).executeTakeFirstOrThrow();
    if (fresh.status === "revoked") throw new ConflictError("ERR_AGENT_REVOKED", "The agent is revoked and cannot be rotated");
    const active = await activeCertificate(deps, agentId);
    if (!active) throw new ConflictError("ERR_NO_ACTIVE_CERTIFICATE", "The agent has no active certificate");
    const id = newId("rot");
    await deps.db.insertInto("rotations").values({
      id, agent_id: agentId, old_serial: active.serial, new_key_arn: null, new_serial: null, step: "started",
      created_at: deps.now().toISOString(), completed_at: null,
    }).execute();
    return runRotation(deps, agent, id, false, opts);
  });
}

/**
 * Maintenance: finish rotation `rotationId` if — and only if — nobody is working on it. The agent
 * lock is tried once, without waiting: held means its owner is alive (a request or another
 * instance is running it; dead holders' leases are taken over, server/db/lease.ts). Under the lock
 * the same rotation is resumed, never a new one: undefined if it completed meanwhile or is busy.
 */
export async function resumeRotation(deps: AppDeps, issuerId: string, agentId: string, rotationId: string): Promise<RotationResult | undefined> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  try {
    return await withLease(deps.db, `agent:${agentId}`, async () => {
      const rot = await deps.db.selectFrom("rotations").select(["id", "completed_at"]).where("id", "=", rotationId).executeTakeFirst();
      if (!rot || rot.completed_at !== null) return undefined;
      return runRotation(deps, agent, rotationId, true, {});
    }, { waitMs: 0, logger: deps.logger });
  } catch (e) {
    if (e instanceof LeaseBusyError) return undefined;
    throw e;
  }
}

/**
 * Maintenance renewal: rotate the agent only if `serial` is still its active certificate (a
 * rotation requested meanwhile already renewed it). Undefined when there was nothing to do.
 */
export async function renewCertificate(deps: AppDeps, issuerId: string, agentId: string, serial: string): Promise<RotationResult | undefined> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  return withAgentLock(deps, agentId, async () => {
    const pending = await deps.db.selectFrom("rotations").select("id").where("agent_id", "=", agentId).where("completed_at", "is", null).executeTakeFirst();
    if (pending) return runRotation(deps, agent, pending.id, true, {});
    const active = await activeCertificate(deps, agentId);
    if (!active || active.serial !== serial) return undefined;
    const fresh = await deps.db.selectFrom("agents").select("status").where("id", "=", agentId).executeTakeFirstOrThrow();
    if (fresh.status !== "active") return undefined;
    const id = newId("rot");
    await deps.db.insertInto("rotations").values({
      id, agent_id: agentId, old_serial: active.serial, new_key_arn: null, new_serial: null, step: "started",
      created_at: deps.now().toISOString(), completed_at: null,
    }).execute();
    return runRotation(deps, agent, id, false, {});
  });
}

async function activeCertificate(deps: AppDeps, agentId: string) {
  return deps.db.selectFrom("certificates").select(["serial", "key_arn", "not_after"])
    .where("agent_id", "=", agentId).where("status", "=", "active").executeTakeFirst();
}

async function runRotation(
  deps: AppDeps,
  agent: { id: string; issuer_id: string; issuer_name: string; name: string },
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
      if (!known) await trx.insertInto("keys").values({ arn, agent_id: agent.id, purpose: "agent", state: "Enabled", public_key: publicKey, created_at: t, disabled_at: null }).execute();
      await trx.updateTable("rotations").set({ new_key_arn: arn, step: "key_created" }).where("id", "=", rotationId).execute();
    });
    rot = await load();
    if (stop("key_created")) throw new SimulatedCrash("key_created");
  }

  if (rot.step === "key_created") {
    // 3. issue the new certificate; 4. mark the old one superseded — stored atomically, so there is
    // exactly one active certificate at every point.
    const newKeyArn = rot.new_key_arn!;
    const key = await db.selectFrom("keys").select("public_key").where("arn", "=", newKeyArn).executeTakeFirstOrThrow();
    const cert = await ca.issueAgentCertificate({ agentId: agent.id, issuerName: agent.issuer_name, publicKey: new Uint8Array(key.public_key), notBefore: deps.now() });
    const t = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("certificates").values({
        serial: cert.serial, agent_id: agent.id, key_arn: newKeyArn, role: "agent", der: cert.der,
        not_before: cert.notBefore.toISOString(), not_after: cert.notAfter.toISOString(), status: "active",
        superseded_at: null, revoked_at: null, revocation_reason: null, created_at: t,
      }).execute();
      await trx.updateTable("certificates").set({ status: "superseded", superseded_at: t })
        .where("serial", "=", rot.old_serial).where("status", "=", "active").execute();
      await trx.updateTable("rotations").set({ new_serial: cert.serial, step: "old_superseded" }).where("id", "=", rotationId).execute();
    });
    rot = await load();
    if (stop("old_superseded")) throw new SimulatedCrash("old_superseded");
  }

  if (rot.step === "old_superseded") {
    // 5. disable the old KMS key (idempotent).
    const old = await db.selectFrom("certificates").select("key_arn").where("serial", "=", rot.old_serial).executeTakeFirstOrThrow();
    await custody.disableKey(old.key_arn);
    const t = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable("keys").set({ state: "Disabled", disabled_at: t }).where("arn", "=", old.key_arn).where("disabled_at", "is", null).execute();
      await trx.updateTable("rotations").set({ step: "old_key_disabled" }).where("id", "=", rotationId).execute();
    });
    rot = await load();
    if (stop("old_key_disabled")) throw new SimulatedCrash("old_key_disabled");
  }

  if (rot.step === "old_key_disabled") {
    // Lifecycle entry last; the step only completes once it is appended (a retry appends it).
    if (deps.log && !(await deps.log.findLifecycle(agent.issuer_id, "key.rotated", agent.id, { rotation: rotationId }))) {
      const old = await db.selectFrom("certificates").select("key_arn").where("serial", "=", rot.old_serial).executeTakeFirstOrThrow();
      await deps.log.appendLifecycle(agent.issuer_id, {
        type: "key.rotated", agent: agent.id,
        details: { rotation: rotationId, oldCert: rot.old_serial, oldKey: old.key_arn, newCert: rot.new_serial, newKey: rot.new_key_arn },
      });
    }
    await db.updateTable("rotations").set({ step: "completed", completed_at: deps.now().toISOString() }).where("id", "=", rotationId).execute();
    rot = await load();
  }
  return { rotationId, oldSerial: rot.old_serial, newSerial: rot.new_serial!, newKeyArn: rot.new_key_arn!, resumed };
}

/** Thrown by `stopAfter` in tests to simulate a crash between steps. */
export class SimulatedCrash extends Error {
  constructor(readonly step: string) {
    super(`simulated crash after ${step}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Revocation: mark revoked → disable key → publish CRL → log
// ---------------------------------------------------------------------------------------------
export interface RevocationResult { serial: string; reason: RevocationReasonName; revokedAt: string; crlNumber: number; resumed: boolean }

export async function revokeAgent(
  deps: AppDeps, issuerId: string, agentId: string, reason: RevocationReasonName, opts: { stopAfter?: RevocationStep } = {},
): Promise<RevocationResult> {
  return (await revoke(deps, issuerId, agentId, reason, opts))!;
}

/** Maintenance: finish revocation of `serial` only if nobody is running it (agent lock tried once) and it is still unfinished. */
export async function resumeRevocation(deps: AppDeps, issuerId: string, agentId: string, serial: string, reason: RevocationReasonName): Promise<RevocationResult | undefined> {
  try {
    return await revoke(deps, issuerId, agentId, reason, { resumeOnly: serial, waitMs: 0 });
  } catch (e) {
    if (e instanceof ConflictError && e.code === "ERR_OPERATION_IN_PROGRESS") return undefined;
    throw e;
  }
}

async function revoke(
  deps: AppDeps, issuerId: string, agentId: string, reason: RevocationReasonName, opts: { stopAfter?: RevocationStep; resumeOnly?: string; waitMs?: number },
): Promise<RevocationResult | undefined> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  return withAgentLock(deps, agentId, async () => {
    const { db } = deps;
    let rev = await db.selectFrom("revocations").selectAll().where("agent_id", "=", agentId).where("completed_at", "is", null).executeTakeFirst();
    if (opts.resumeOnly !== undefined && rev?.serial !== opts.resumeOnly) return undefined;
    const resumed = !!rev;
    if (!rev) {
      const fresh = await db.selectFrom("agents").select("status").where("id", "=", agentId).executeTakeFirstOrThrow();
      if (fresh.status === "revoked") throw new ConflictError("ERR_ALREADY_REVOKED", "The agent's certificate is already revoked");
      // Finish an interrupted rotation first so exactly one certificate is active when we revoke it.
      const pending = await db.selectFrom("rotations").select("id").where("agent_id", "=", agentId).where("completed_at", "is", null).executeTakeFirst();
      if (pending) await runRotation(deps, agent, pending.id, true, {});
      const active = await activeCertificate(deps, agentId);
      if (!active) throw new ConflictError("ERR_NO_ACTIVE_CERTIFICATE", "The agent has no active certificate");
      const t = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable("certificates").set({ status: "revoked", revoked_at: t, revocation_reason: reason }).where("serial", "=", active.serial).execute();
        await trx.updateTable("agents").set({ status: "revoked" }).where("id", "=", agentId).execute();
        await trx.updateTable("tokens").set({ revoked_at: t }).where("agent_id", "=", agentId).where("revoked_at", "is", null).execute();
        await trx.insertInto("revocations").values({ serial: active.serial, agent_id: agentId, reason, revoked_at: t, step: "revoked", crl_number: null, completed_at: null }).execute();
      });
      rev = await db.selectFrom("revocations").selectAll().where("serial", "=", active.serial).executeTakeFirstOrThrow();
    }
    const serial = rev.serial;
    const load = () => db.selectFrom("revocations").selectAll().where("serial", "=", serial).executeTakeFirstOrThrow();
    if (opts.stopAfter === rev.step) throw new SimulatedCrash(rev.step);
    if (rev.step === "revoked") {
      const cert = await db.selectFrom("certificates").select("key_arn").where("serial", "=", serial).executeTakeFirstOrThrow();
      await deps.custody.disableKey(cert.key_arn);
      const t = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable("keys").set({ state: "Disabled", disabled_at: t }).where("arn", "=", cert.key_arn).where("disabled_at", "is", null).execute();
        await trx.updateTable("revocations").set({ step: "key_disabled" }).where("serial", "=", serial).execute();
      });
      rev = await load();
      if (opts.stopAfter === "key_disabled") throw new SimulatedCrash("key_disabled");
    }
    if (rev.step === "key_disabled") {
      const crl = await publishCrl(deps);
      await db.updateTable("revocations").set({ step: "crl_published", crl_number: crl.number }).where("serial", "=", serial).execute();
      rev = await load();
      if (opts.stopAfter === "crl_published") throw new SimulatedCrash("crl_published");
    }
    if (rev.step === "crl_published") {
      if (deps.log && !(await deps.log.findLifecycle(agent.issuer_id, "certificate.revoked", agentId, { cert: serial }))) {
        const cert = await db.selectFrom("certificates").select("key_arn").where("serial", "=", serial).executeTakeFirstOrThrow();
        await deps.log.appendLifecycle(agent.issuer_id, {
          type: "certificate.revoked", agent: agentId,
          details: { cert: serial, key: cert.key_arn, reason: rev.reason, revokedAt: rev.revoked_at, crlNumber: rev.crl_number },
        });
      }
      await db.updateTable("revocations").set({ step: "completed", completed_at: deps.now().toISOString() }).where("serial", "=", serial).execute();
      rev = await load();
    }
    return { serial, reason: rev.reason as RevocationReasonName, revokedAt: rev.revoked_at, crlNumber: rev.crl_number!, resumed };
  }, opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {});
}

// ---------------------------------------------------------------------------------------------
// CRL
// ---------------------------------------------------------------------------------------------
/** Sign and store a new CRL (next cRLNumber) listing every revoked agent certificate. */
export async function publishCrl(deps: AppDeps): Promise<{ number: number; nextUpdate: string }> {
  const { db, ca } = deps;
  for (let attempt = 0; attempt < 5; attempt++) {
    const last = await db.selectFrom("crls").select("number").orderBy("number", "desc").limit(1).executeTakeFirst();
    const number = Number(last?.number ?? 0) + 1;
    const revoked = await db.selectFrom("certificates").select(["serial", "revoked_at", "revocation_reason"])
      .where("status", "=", "revoked").orderBy("revoked_at").execute();
    const thisUpdate = deps.now();
    const nextUpdate = new Date(thisUpdate.getTime() + deps.config.crlValidityDays * DAY);
    const crl = await ca.signCrl({
      number, thisUpdate, nextUpdate,
      revoked: revoked.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revoked_at!), reason: (r.revocation_reason ?? "unspecified") as RevocationReasonName })),
    });
    try {
      await db.insertInto("crls").values({ number, der: crl.der, this_update: thisUpdate.toISOString(), next_update: nextUpdate.toISOString(), created_at: thisUpdate.toISOString() }).execute();
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
