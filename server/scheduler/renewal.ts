/**
 * Scheduled maintenance, once across instances (under a lease): finish interrupted rotations and
 * revocations, rotate certificates within KAKUNIN_RENEW_BEFORE_DAYS of expiry, and refresh the CRL
 * before its nextUpdate. `runMaintenance` is callable directly (tests, ops).
 */
import type { AppDeps } from "../deps.js";
import { LeaseBusyError, withLease } from "../db/lease.js";
import { every, runOnceAcrossInstances } from "./once.js";
import { latestCrl } from "../db/views.js";
import { publishCrl, renewCertificate, resumeRevocation, resumeRotation, type RevocationReasonName } from "../routes/lifecycle.js";

const DAY = 86_400_000;

export interface MaintenanceReport {
  skipped?: "lease-busy";
  resumedRotations: string[];
  resumedRevocations: string[];
  renewed: { agent: string; oldSerial: string; newSerial: string }[];
  failed: { agent: string; code: string }[];
  crlPublished: number | null;
}

export async function runMaintenance(deps: AppDeps): Promise<MaintenanceReport> {
  const report: MaintenanceReport = { resumedRotations: [], resumedRevocations: [], renewed: [], failed: [], crlPublished: null };
  try {
    return await withLease(deps.db, "scheduler:maintenance", async () => {
      const { db } = deps;
      const fail = (agent: string, e: unknown) => {
        const code = (e as { code?: string }).code ?? (e as Error).name;
        report.failed.push({ agent, code });
        deps.logger.warn({ agent, code }, "maintenance step failed");
      };
      // 1. interrupted operations
      // Only those nobody is running (their owner's lease is gone), and each the same operation.
      const rotations = await db.selectFrom("rotations").innerJoin("agents", "agents.id", "rotations.agent_id")
        .select(["rotations.id", "rotations.agent_id", "agents.issuer_id"]).where("rotations.completed_at", "is", null).execute();
      for (const r of rotations) {
        try { if (await resumeRotation(deps, r.issuer_id, r.agent_id, r.id)) report.resumedRotations.push(r.agent_id); } catch (e) { fail(r.agent_id, e); }
      }
      const revocations = await db.selectFrom("revocations").innerJoin("agents", "agents.id", "revocations.agent_id")
        .select(["revocations.serial", "revocations.agent_id", "revocations.reason", "agents.issuer_id"]).where("revocations.completed_at", "is", null).execute();
      for (const r of revocations) {
        try { if (await resumeRevocation(deps, r.issuer_id, r.agent_id, r.serial, r.reason as RevocationReasonName)) report.resumedRevocations.push(r.agent_id); } catch (e) { fail(r.agent_id, e); }
      }
      // 2. renewal
      const before = new Date(deps.now().getTime() + deps.config.renewBeforeDays * DAY).toISOString();
      const due = await db.selectFrom("certificates").innerJoin("agents", "agents.id", "certificates.agent_id")
        .select(["certificates.agent_id", "certificates.serial", "agents.issuer_id"])
        .where("certificates.role", "=", "agent").where("certificates.status", "=", "active")
        .where("agents.status", "=", "active").where("certificates.not_after", "<=", before).execute();
      for (const d of due) {
        const agentId = d.agent_id!;
        try {
          const r = await renewCertificate(deps, d.issuer_id, agentId, d.serial);
          if (r) report.renewed.push({ agent: agentId, oldSerial: r.oldSerial, newSerial: r.newSerial });
        } catch (e) { fail(agentId, e); }
      }
      // 3. CRL freshness: republish when less than a third of its validity is left.
      const crl = await latestCrl(db);
      const margin = (deps.config.crlValidityDays * DAY) / 3;
      if (!crl || new Date(crl.next_update).getTime() - deps.now().getTime() < margin) {
        report.crlPublished = (await publishCrl(deps)).number;
      }
      if (report.renewed.length || report.crlPublished || report.failed.length) deps.logger.info({ report }, "maintenance run");
      return report;
    }, { logger: deps.logger });
  } catch (e) {
    if (e instanceof LeaseBusyError) return { ...report, skipped: "lease-busy" };
    throw e;
  }
}

/**
 * Start the periodic job; returns a stop function. interval 0 = off. Every instance ticks, but the
 * job runs about once per interval across all of them (lease + last-run time in the database).
 */
export function startScheduler(deps: AppDeps): () => Promise<void> {
  const interval = deps.config.schedulerIntervalMs;
  if (interval <= 0) return async () => undefined;
  return every(interval, Math.min(interval, 5_000), () =>
    runOnceAcrossInstances(deps.db, "scheduler:maintenance-period", interval, () => runMaintenance(deps))
      .catch((e) => deps.logger.error({ err: { name: (e as Error).name, message: (e as Error).message } }, "maintenance run failed")));
}
