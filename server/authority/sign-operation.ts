/**
 * Signing one operation for an agent. Who may: an agent token signs only for its own agent, an
 * issuer token only for one of its agents — checked before the body is looked at. Then the audit
 * log appends it (the agent's own KMS key signs the entry, server/log/) — after the agent's
 * signing-rate limit (signing-rate.ts) let it through: a refused one never reaches KMS. The route
 * (server/routes/operations.ts) calls `authorizeOperation`, validates the body, calls `signOperation`.
 */
import type { Principal } from "../auth/principal.js";
import type { AppDeps } from "../deps.js";
import { ForbiddenError, NotFoundError } from "../errors.js";
import type { AuditLog, OperationPayload } from "../log/audit-log.js";
import { assertAgentOfIssuer } from "./agent-records.js";
import type { SigningRateLimiter } from "./signing-rate.js";

/** Who signs for whom, checked; what `signOperation` needs. */
export interface AuthorizedOperation {
  log: AuditLog;
  issuerId: string;
  agentId: string;
  rates: SigningRateLimiter;
}

/** The log and the issuer whose chain the operation joins; refuses a principal that may not sign for `agentId`. */
export async function authorizeOperation(
  deps: AppDeps,
  principal: Principal,
  agentId: string,
): Promise<AuthorizedOperation> {
  const log = deps.log;
  if (!log) throw new NotFoundError("The audit log is not enabled");
  if (principal.role === "agent" && principal.agentId !== agentId)
    throw new ForbiddenError("An agent token may only sign for its own agent");
  const issuerId = principal.role === "operator" ? "" : principal.issuerId;
  // An agent token is bound to its agent and issuer; an issuer token must name one of its own agents.
  // (The appender resolves the agent's active certificate within the issuer either way.)
  if (principal.role !== "agent") await assertAgentOfIssuer(deps, issuerId, agentId);
  return { log, issuerId, agentId, rates: deps.signingRates };
}

/**
 * Takes one signature from the agent's rate limit (429 `ERR_RATE_LIMITED` when it is used up:
 * nothing appended, no KMS call), then appends the operation to the issuer's chain; resolves once
 * it is durably committed.
 */
export async function signOperation(
  authorized: AuthorizedOperation,
  payload: OperationPayload,
  opts: { contentType?: string } = {},
) {
  await authorized.rates.take(authorized.issuerId, authorized.agentId);
  return authorized.log.appendOperation(authorized.issuerId, authorized.agentId, payload, opts);
}
