/** Rotations and revocations that were started but never completed (a crash, a KMS outage): the maintenance job finishes them. */
import type { RevocationReason } from "../ca/crl.js";
import type { AppDeps } from "../deps.js";

/** An unfinished rotation. */
export interface UnfinishedRotation {
  rotationId: string;
  agentId: string;
  issuerId: string;
}
/** An unfinished revocation. */
export interface UnfinishedRevocation {
  serial: string;
  agentId: string;
  issuerId: string;
  reason: RevocationReason;
}

/** Every rotation not yet completed. */
export async function unfinishedRotations(deps: AppDeps): Promise<UnfinishedRotation[]> {
  const rows = await deps.db
    .selectFrom("rotations")
    .innerJoin("agents", "agents.id", "rotations.agent_id")
    .select(["rotations.id", "rotations.agent_id", "agents.issuer_id"])
    .where("rotations.completed_at", "is", null)
    .execute();
  return rows.map((r) => ({ rotationId: r.id, agentId: r.agent_id, issuerId: r.issuer_id }));
}

/** Every revocation not yet completed. */
export async function unfinishedRevocations(deps: AppDeps): Promise<UnfinishedRevocation[]> {
  const rows = await deps.db
    .selectFrom("revocations")
    .innerJoin("agents", "agents.id", "revocations.agent_id")
    .select(["revocations.serial", "revocations.agent_id", "revocations.reason", "agents.issuer_id"])
    .where("revocations.completed_at", "is", null)
    .execute();
  return rows.map((r) => ({
    serial: r.serial,
    agentId: r.agent_id,
    issuerId: r.issuer_id,
    reason: r.reason as RevocationReason,
  }));
}
