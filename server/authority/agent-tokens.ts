/** Agent-scoped bearer tokens: minted by the agent's issuer, refused for a revoked agent. */
import { mintToken } from "../auth/tokens.js";
import type { AppDeps } from "../deps.js";
import { ConflictError } from "../errors.js";
import { loadOwnedAgent } from "./agent-records.js";

/** Mints a token that may only sign for agent `agentId` of issuer `issuerId`; returns the plaintext once. */
export async function mintAgentToken(deps: AppDeps, issuerId: string, agentId: string): Promise<string> {
  const agent = await loadOwnedAgent(deps, issuerId, agentId);
  if (agent.status === "revoked") {
    throw new ConflictError("ERR_AGENT_REVOKED", "The agent is revoked; no tokens can be issued for it");
  }
  return mintToken(deps.db, "agent", { issuerId, agentId }, deps.now());
}
