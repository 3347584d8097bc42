/** Rotation on request (POST /v1/agents/{id}/rotate) and the maintenance job's resumption of an interrupted one. */
import type { AppDeps } from "../deps.js";
import { LeaseBusyError, withLease } from "../db/lease.js";
import { ConflictError } from "../errors.js";
import { activeCertificate, currentAgentStatus, loadOwnedAgent } from "./agent-records.js";
import { agentLeaseName, withAgentLock } from "./agent-lock.js";
import { runRotation, startRotation, type RotateOptions, type RotationResult } from "./rotation-steps.js";

export type { RotateOptions, RotationResult } from "./rotation-steps.js";

/**
 * Rotates the agent's key and certificate. An unfinished rotation is finished instead
 * (`resumed: true`); a revoked agent, or one without an active certificate, is a 409.
 */
export async function rotateAgent(
  deps: AppDeps,
  issuerId: string,
  agentId: string,
  opts: RotateOptions = {},
): Promise<RotationResult> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  return withAgentLock(deps, agentId, async () => {
    const pending = await deps.db
      .selectFrom("rotations")
      .selectAll()
      .where("agent_id", "=", agentId)
      .where("completed_at", "is", null)
      .orderBy("created_at", "desc")
      .executeTakeFirst();
    if (pending) return runRotation(deps, agent, pending.id, true, opts);
    if ((await currentAgentStatus(deps, agentId)) === "revoked")
      throw new ConflictError("ERR_AGENT_REVOKED", "The agent is revoked and cannot be rotated");
    const active = await activeCertificate(deps, agentId);
    if (!active) throw new ConflictError("ERR_NO_ACTIVE_CERTIFICATE", "The agent has no active certificate");
    const id = await startRotation(deps, agentId, active.serial);
    return runRotation(deps, agent, id, false, opts);
  });
}

/**
 * Maintenance: finish rotation `rotationId` if — and only if — nobody is working on it. The agent
 * lock is tried once, without waiting: held means its owner is alive (a request or another
 * instance is running it; dead holders' leases are taken over, server/db/lease.ts). Under the lock
 * the same rotation is resumed, never a new one: undefined if it completed meanwhile or is busy.
 */
export async function resumeRotation(
  deps: AppDeps,
  issuerId: string,
  agentId: string,
  rotationId: string,
): Promise<RotationResult | undefined> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  try {
    return await withLease(
      deps.db,
      agentLeaseName(agentId),
      async () => {
        const rot = await deps.db
          .selectFrom("rotations")
          .select(["id", "completed_at"])
          .where("id", "=", rotationId)
          .executeTakeFirst();
        if (!rot || rot.completed_at !== null) return undefined;
        return runRotation(deps, agent, rotationId, true, {});
      },
      { waitMs: 0, logger: deps.logger },
    );
  } catch (e) {
    if (e instanceof LeaseBusyError) return undefined;
    throw e;
  }
}
