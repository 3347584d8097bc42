/** The per-agent lifecycle lock: one register/rotate/revoke/renew at a time per agent, across processes. */
import type { AppDeps } from "../deps.js";
import { LeaseBusyError, withLease } from "../db/lease.js";
import { ConflictError } from "../errors.js";

/** Name of the lease that serialises lifecycle operations on `agentId`. */
export function agentLeaseName(agentId: string): string {
  return `agent:${agentId}`;
}

/**
 * Runs `fn` under the agent's lease, waiting up to `waitMs` (default 15 s) for it; a lease still
 * held then is a 409 `ERR_OPERATION_IN_PROGRESS`.
 */
export async function withAgentLock<T>(
  deps: AppDeps,
  agentId: string,
  fn: () => Promise<T>,
  opts: { waitMs?: number } = {},
): Promise<T> {
  try {
    return await withLease(deps.db, agentLeaseName(agentId), fn, {
      waitMs: opts.waitMs ?? 15_000,
      pollMs: 50,
      logger: deps.logger,
    });
  } catch (e) {
    if (e instanceof LeaseBusyError)
      throw new ConflictError(
        "ERR_OPERATION_IN_PROGRESS",
        "Another lifecycle operation on this agent is in progress; retry later",
      );
    throw e;
  }
}
