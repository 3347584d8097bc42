/** The small reads every lifecycle operation starts from: the agent (within its issuer), its status, its active certificate. */
import type { AppDeps } from "../deps.js";
import { NotFoundError } from "../errors.js";

/** An agent with its issuer's name (the O= of its certificates). */
export interface OwnedAgent {
  id: string;
  name: string;
  status: "active" | "revoked";
  issuer_id: string;
  issuer_name: string;
}

/** The agent `agentId` of issuer `issuerId`; another issuer's agent is a 404 like an unknown id. */
export async function loadOwnedAgent(deps: AppDeps, issuerId: string, agentId: string): Promise<OwnedAgent> {
  const agent = await deps.db
    .selectFrom("agents")
    .innerJoin("issuers", "issuers.id", "agents.issuer_id")
    .select(["agents.id", "agents.name", "agents.status", "agents.issuer_id", "issuers.name as issuer_name"])
    .where("agents.id", "=", agentId)
    .where("agents.issuer_id", "=", issuerId)
    .executeTakeFirst();
  if (!agent) throw new NotFoundError(`Agent ${agentId} not found`, "ERR_AGENT_NOT_FOUND");
  return agent;
}

/** 404 `ERR_AGENT_NOT_FOUND` unless `agentId` is an agent of `issuerId` (one indexed read, on the append path). */
export async function assertAgentOfIssuer(deps: AppDeps, issuerId: string, agentId: string): Promise<void> {
  const agent = await deps.db
    .selectFrom("agents")
    .select("id")
    .where("id", "=", agentId)
    .where("issuer_id", "=", issuerId)
    .executeTakeFirst();
  if (!agent) throw new NotFoundError(`Agent ${agentId} not found`, "ERR_AGENT_NOT_FOUND");
}

/** The agent's status as stored now (read again under the agent lock). */
export async function currentAgentStatus(deps: AppDeps, agentId: string): Promise<"active" | "revoked"> {
  const fresh = await deps.db.selectFrom("agents").select("status").where("id", "=", agentId).executeTakeFirstOrThrow();
  return fresh.status;
}

/** The agent's one active certificate, if it has one. */
export async function activeCertificate(deps: AppDeps, agentId: string) {
  return deps.db
    .selectFrom("certificates")
    .select(["serial", "key_arn", "not_after"])
    .where("agent_id", "=", agentId)
    .where("status", "=", "active")
    .executeTakeFirst();
}

/** The KMS key ARN of certificate `serial`. */
export async function certificateKeyArn(deps: AppDeps, serial: string): Promise<string> {
  const cert = await deps.db
    .selectFrom("certificates")
    .select("key_arn")
    .where("serial", "=", serial)
    .executeTakeFirstOrThrow();
  return cert.key_arn;
}
