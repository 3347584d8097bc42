/** Renewal: which agent certificates are due, and renewing one (a rotation, unless one already happened). */
import type { AppDeps } from "../deps.js";
import { activeCertificate, currentAgentStatus, loadOwnedAgent } from "./agent-records.js";
import { withAgentLock } from "./agent-lock.js";
import { renewalCutoff } from "./renewal-policy.js";
import { pendingRotationId, runRotation, startRotation, type RotationResult } from "./rotation-steps.js";

/** An active agent certificate that the renewal policy says to renew now. */
export interface DueCertificate {
  agentId: string;
  issuerId: string;
  serial: string;
}

/** Active certificates of active agents that expire within KAKUNIN_RENEW_BEFORE_DAYS of now. */
export async function certificatesDueForRenewal(deps: AppDeps): Promise<DueCertificate[]> {
  const before = renewalCutoff(deps.now(), deps.config.renewBeforeDays).toISOString();
  const due = await deps.db
    .selectFrom("certificates")
    .innerJoin("agents", "agents.id", "certificates.agent_id")
    .select(["certificates.agent_id", "certificates.serial", "agents.issuer_id"])
    .where("certificates.role", "=", "agent")
    .where("certificates.status", "=", "active")
    .where("agents.status", "=", "active")
    .where("certificates.not_after", "<=", before)
    .execute();
  return due.map((d) => ({ agentId: d.agent_id!, issuerId: d.issuer_id, serial: d.serial }));
}

/**
 * Maintenance renewal: rotate the agent only if `serial` is still its active certificate (a
 * rotation requested meanwhile already renewed it). Undefined when there was nothing to do.
 */
export async function renewCertificate(
  deps: AppDeps,
  issuerId: string,
  agentId: string,
  serial: string,
): Promise<RotationResult | undefined> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  return withAgentLock(deps, agentId, async () => {
    const pending = await pendingRotationId(deps, agentId);
    if (pending) return runRotation(deps, agent, pending, true, {});
    const active = await activeCertificate(deps, agentId);
    if (!active || active.serial !== serial) return undefined;
    if ((await currentAgentStatus(deps, agentId)) !== "active") return undefined;
    const id = await startRotation(deps, agentId, active.serial);
    return runRotation(deps, agent, id, false, {});
  });
}
