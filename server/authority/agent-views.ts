/** An issuer's view of its agents: each with every certificate it has had and the state of each key. */
import type { AppDeps } from "../deps.js";
import { agentViews, type AgentView } from "../db/views.js";
import { NotFoundError } from "../errors.js";
import { daysAfter } from "./renewal-policy.js";

/** Agent `agentId` of issuer `issuerId`; another issuer's agent is a 404 like an unknown id. */
export async function ownedAgentView(deps: AppDeps, issuerId: string, agentId: string): Promise<AgentView> {
  const [view] = await agentViews(deps.db, { issuerId, agentId });
  if (!view) throw new NotFoundError(`Agent ${agentId} not found`, "ERR_AGENT_NOT_FOUND");
  return view;
}

/** The issuer's agents; with `expiringWithinDays`, only those whose active certificate expires within that many days. */
export async function issuerAgentViews(
  deps: AppDeps,
  issuerId: string,
  opts: { expiringWithinDays?: number } = {},
): Promise<AgentView[]> {
  const expiringBefore =
    opts.expiringWithinDays !== undefined ? daysAfter(deps.now(), opts.expiringWithinDays) : undefined;
  return agentViews(deps.db, expiringBefore ? { issuerId, expiringBefore } : { issuerId });
}
