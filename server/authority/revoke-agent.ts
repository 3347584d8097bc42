/**
 * Revocation, resumable like rotation: certificate revoked (with the agent and its tokens) → its
 * KMS key disabled → a new CRL published → `certificate.revoked` appended. Each step is recorded
 * in `revocations.step`.
 */
import type { RevocationReason } from "../ca/crl.js";
import type { AppDeps } from "../deps.js";
import type { RevocationStep } from "../db/schema.js";
import { ConflictError } from "../errors.js";
import { activeCertificate, certificateKeyArn, currentAgentStatus, loadOwnedAgent } from "./agent-records.js";
import { withAgentLock } from "./agent-lock.js";
import { certificateRevokedEntry, certificateRevokedMatch } from "./lifecycle-entries.js";
import { publishCrl } from "./publish-crl.js";
import { pendingRotationId, runRotation } from "./rotation-steps.js";
import { SimulatedCrash } from "./simulated-crash.js";

/** A finished revocation; `resumed` when it was an interrupted one that this call completed. */
export interface RevocationResult {
  serial: string;
  reason: RevocationReason;
  revokedAt: string;
  crlNumber: number;
  resumed: boolean;
}

/**
 * Revokes the agent's active certificate with RFC 5280 `reason`; an unfinished revocation is
 * finished instead. An agent already revoked is a 409 `ERR_ALREADY_REVOKED`.
 */
export async function revokeAgent(
  deps: AppDeps,
  issuerId: string,
  agentId: string,
  reason: RevocationReason,
  opts: { stopAfter?: RevocationStep } = {},
): Promise<RevocationResult> {
  return (await revoke(deps, issuerId, agentId, reason, opts))!;
}

/** Maintenance: finish revocation of `serial` only if nobody is running it (agent lock tried once) and it is still unfinished. */
export async function resumeRevocation(
  deps: AppDeps,
  issuerId: string,
  agentId: string,
  serial: string,
  reason: RevocationReason,
): Promise<RevocationResult | undefined> {
  try {
    return await revoke(deps, issuerId, agentId, reason, { resumeOnly: serial, waitMs: 0 });
  } catch (e) {
    if (e instanceof ConflictError && e.code === "ERR_OPERATION_IN_PROGRESS") return undefined;
    throw e;
  }
}

async function revoke(
  deps: AppDeps,
  issuerId: string,
  agentId: string,
  reason: RevocationReason,
  opts: { stopAfter?: RevocationStep; resumeOnly?: string; waitMs?: number },
): Promise<RevocationResult | undefined> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  return withAgentLock(
    deps,
    agentId,
    async () => {
      const { db } = deps;
      let rev = await db
        .selectFrom("revocations")
        .selectAll()
        .where("agent_id", "=", agentId)
        .where("completed_at", "is", null)
        .executeTakeFirst();
      if (opts.resumeOnly !== undefined && rev?.serial !== opts.resumeOnly) return undefined;
      const resumed = !!rev;
      if (!rev) {
        if ((await currentAgentStatus(deps, agentId)) === "revoked")
          throw new ConflictError("ERR_ALREADY_REVOKED", "The agent's certificate is already revoked");
        // Finish an interrupted rotation first so exactly one certificate is active when we revoke it.
        const pending = await pendingRotationId(deps, agentId);
        if (pending) await runRotation(deps, agent, pending, true, {});
        const active = await activeCertificate(deps, agentId);
        if (!active) throw new ConflictError("ERR_NO_ACTIVE_CERTIFICATE", "The agent has no active certificate");
        const t = deps.now().toISOString();
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable("certificates")
            .set({ status: "revoked", revoked_at: t, revocation_reason: reason })
            .where("serial", "=", active.serial)
            .execute();
          await trx.updateTable("agents").set({ status: "revoked" }).where("id", "=", agentId).execute();
          await trx
            .updateTable("tokens")
            .set({ revoked_at: t })
            .where("agent_id", "=", agentId)
            .where("revoked_at", "is", null)
            .execute();
          await trx
            .insertInto("revocations")
            .values({
              serial: active.serial,
              agent_id: agentId,
              reason,
              revoked_at: t,
              step: "revoked",
              crl_number: null,
              completed_at: null,
            })
            .execute();
        });
        rev = await db
          .selectFrom("revocations")
          .selectAll()
          .where("serial", "=", active.serial)
          .executeTakeFirstOrThrow();
      }
      const serial = rev.serial;
      const load = () =>
        db.selectFrom("revocations").selectAll().where("serial", "=", serial).executeTakeFirstOrThrow();
      if (opts.stopAfter === rev.step) throw new SimulatedCrash(rev.step);
      if (rev.step === "revoked") {
        const keyArn = await certificateKeyArn(deps, serial);
        await deps.custody.disableKey(keyArn);
        const t = deps.now().toISOString();
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable("keys")
            .set({ state: "Disabled", disabled_at: t })
            .where("arn", "=", keyArn)
            .where("disabled_at", "is", null)
            .execute();
          await trx.updateTable("revocations").set({ step: "key_disabled" }).where("serial", "=", serial).execute();
        });
        rev = await load();
        if (opts.stopAfter === "key_disabled") throw new SimulatedCrash("key_disabled");
      }
      if (rev.step === "key_disabled") {
        const crl = await publishCrl(deps);
        await db
          .updateTable("revocations")
          .set({ step: "crl_published", crl_number: crl.number })
          .where("serial", "=", serial)
          .execute();
        rev = await load();
        if (opts.stopAfter === "crl_published") throw new SimulatedCrash("crl_published");
      }
      if (rev.step === "crl_published") {
        if (
          deps.log &&
          !(await deps.log.findLifecycle(
            agent.issuer_id,
            "certificate.revoked",
            agentId,
            certificateRevokedMatch(serial),
          ))
        ) {
          const keyArn = await certificateKeyArn(deps, serial);
          await deps.log.appendLifecycle(
            agent.issuer_id,
            certificateRevokedEntry(agentId, {
              serial,
              keyArn,
              reason: rev.reason,
              revokedAt: rev.revoked_at,
              crlNumber: rev.crl_number,
            }),
          );
        }
        await db
          .updateTable("revocations")
          .set({ step: "completed", completed_at: deps.now().toISOString() })
          .where("serial", "=", serial)
          .execute();
        rev = await load();
      }
      return {
        serial,
        reason: rev.reason as RevocationReason,
        revokedAt: rev.revoked_at,
        crlNumber: rev.crl_number!,
        resumed,
      };
    },
    opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {},
  );
}
