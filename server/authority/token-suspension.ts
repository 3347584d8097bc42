/**
 * Suspension of an agent's tokens on a critical key-usage alert (issue 18). When an alert of
 * severity `critical` names an agent (e.g. `unlogged-signature`: its KMS key signed outside
 * Kakunin) and the agent's issuer has `suspendTokensOnCritical`, every live token of that agent
 * (role agent, not revoked, not already suspended) is marked suspended with the alert's id — not
 * deleted — and is refused with 403 `ERR_TOKEN_SUSPENDED` (server/auth/middleware.ts) until the
 * issuer resumes the agent's tokens (`POST /v1/agents/{id}/tokens/resume`). The issuer's own token
 * is not the agent's and is left alone. What was done goes into the alert's evidence (`response`)
 * and a log line; tokens appear by id, never by value.
 */
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../db/schema.js";
import type { AppDeps } from "../deps.js";
import { loadOwnedAgent } from "./agent-records.js";
import { readResponseSettings } from "./issuer-responses.js";

/** What the suspension needs of an alert (monitoring's `Alert` has these members). */
export interface AlertRef {
  id: string;
  severity: string;
  kind: string;
  issuerId: string | null;
  agentId: string | null;
}

/** Recorded in the alert's evidence as `response`. */
export interface SuspensionRecord {
  [key: string]: string | number | string[];
  action: "tokens-suspended";
  at: string;
  tokensSuspended: number;
  tokenIds: string[];
}

/**
 * The response to `alert`: its agent's live tokens suspended when the alert is critical and the
 * issuer asked for it; undefined when nothing was to be done.
 */
export async function suspendOnCriticalAlert(
  deps: { db: Kysely<Database>; logger: Logger; now: () => Date },
  alert: AlertRef,
): Promise<SuspensionRecord | undefined> {
  if (alert.severity !== "critical" || alert.agentId === null || alert.issuerId === null) return undefined;
  const { issuerId, agentId } = alert;
  if (!(await readResponseSettings(deps.db, issuerId)).suspendTokensOnCritical) return undefined;
  const at = deps.now().toISOString();
  const tokenIds = await deps.db.transaction().execute(async (trx) => {
    const live = await trx
      .selectFrom("tokens")
      .select("id")
      .where("role", "=", "agent")
      .where("agent_id", "=", agentId)
      .where("issuer_id", "=", issuerId)
      .where("revoked_at", "is", null)
      .where("suspended_at", "is", null)
      .orderBy("id")
      .execute();
    const ids = live.map((r) => r.id);
    if (ids.length > 0)
      await trx
        .updateTable("tokens")
        .set({ suspended_at: at, suspended_by_alert: alert.id })
        .where("id", "in", ids)
        .where("suspended_at", "is", null)
        .execute();
    return ids;
  });
  deps.logger.warn(
    { alertId: alert.id, kind: alert.kind, issuerId, agentId, tokenIds, tokensSuspended: tokenIds.length },
    "agent tokens suspended after a critical alert",
  );
  return { action: "tokens-suspended", at, tokensSuspended: tokenIds.length, tokenIds };
}

/** What `resumeAgentTokens` lifted: token ids and the alerts that had suspended them. */
export interface ResumeResult {
  agent: string;
  resumed: number;
  tokenIds: string[];
  alerts: string[];
}

/** `POST /v1/agents/{id}/tokens/resume` (issuer): every suspended, unrevoked token of the agent is live again. */
export async function resumeAgentTokens(deps: AppDeps, issuerId: string, agentId: string): Promise<ResumeResult> {
  await loadOwnedAgent(deps, issuerId, agentId);
  const { tokenIds, alerts } = await deps.db.transaction().execute(async (trx) => {
    const suspended = await trx
      .selectFrom("tokens")
      .select(["id", "suspended_by_alert"])
      .where("agent_id", "=", agentId)
      .where("issuer_id", "=", issuerId)
      .where("revoked_at", "is", null)
      .where("suspended_at", "is not", null)
      .orderBy("id")
      .execute();
    const ids = suspended.map((r) => r.id);
    if (ids.length > 0)
      await trx
        .updateTable("tokens")
        .set({ suspended_at: null, suspended_by_alert: null })
        .where("id", "in", ids)
        .execute();
    return { tokenIds: ids, alerts: [...new Set(suspended.map((r) => r.suspended_by_alert ?? ""))].filter(Boolean) };
  });
  deps.logger.warn({ issuerId, agentId, tokenIds, alerts }, "agent tokens resumed by the issuer");
  return { agent: agentId, resumed: tokenIds.length, tokenIds, alerts };
}
