/**
 * Scheduled certificate maintenance, once across instances (under a lease): finish interrupted
 * rotations and revocations, rotate certificates within KAKUNIN_RENEW_BEFORE_DAYS of expiry, and
 * refresh the CRL before its nextUpdate. `runMaintenance` is callable directly (tests, ops).
 */
import type { AppDeps } from "../deps.js";
import { LeaseBusyError, withLease } from "../db/lease.js";
import { refreshCrlIfDue } from "../authority/publish-crl.js";
import { certificatesDueForRenewal, renewCertificate } from "../authority/renew-certificate.js";
import { resumeRevocation } from "../authority/revoke-agent.js";
import { resumeRotation } from "../authority/rotate-agent.js";
import { unfinishedRevocations, unfinishedRotations } from "../authority/unfinished-operations.js";
import { every, runOnceAcrossInstances } from "./once.js";

/** What one maintenance run did (agent ids; `failed` with the error code of each failure). */
export interface MaintenanceReport {
  skipped?: "lease-busy";
  resumedRotations: string[];
  resumedRevocations: string[];
  renewed: { agent: string; oldSerial: string; newSerial: string }[];
  failed: { agent: string; code: string }[];
  crlPublished: number | null;
}

/** One maintenance run, unless another process is running one (then `skipped: "lease-busy"`). */
export async function runMaintenance(deps: AppDeps): Promise<MaintenanceReport> {
  const report: MaintenanceReport = {
    resumedRotations: [],
    resumedRevocations: [],
    renewed: [],
    failed: [],
    crlPublished: null,
  };
  try {
    return await withLease(
      deps.db,
      "scheduler:maintenance",
      async () => {
        const fail = (agent: string, e: unknown) => {
          const code = (e as { code?: string }).code ?? (e as Error).name;
          report.failed.push({ agent, code });
          deps.logger.warn({ agent, code }, "maintenance step failed");
        };
        // 1. interrupted operations
        // Only those nobody is running (their owner's lease is gone), and each the same operation.
        for (const r of await unfinishedRotations(deps)) {
          try {
            if (await resumeRotation(deps, r.issuerId, r.agentId, r.rotationId))
              report.resumedRotations.push(r.agentId);
          } catch (e) {
            fail(r.agentId, e);
          }
        }
        for (const r of await unfinishedRevocations(deps)) {
          try {
            if (await resumeRevocation(deps, r.issuerId, r.agentId, r.serial, r.reason))
              report.resumedRevocations.push(r.agentId);
          } catch (e) {
            fail(r.agentId, e);
          }
        }
        // 2. renewal
        for (const d of await certificatesDueForRenewal(deps)) {
          try {
            const r = await renewCertificate(deps, d.issuerId, d.agentId, d.serial);
            if (r) report.renewed.push({ agent: d.agentId, oldSerial: r.oldSerial, newSerial: r.newSerial });
          } catch (e) {
            fail(d.agentId, e);
          }
        }
        // 3. CRL freshness (server/authority/renewal-policy.ts).
        const crl = await refreshCrlIfDue(deps);
        if (crl) report.crlPublished = crl.number;
        if (report.renewed.length || report.crlPublished || report.failed.length)
          deps.logger.info({ report }, "maintenance run");
        return report;
      },
      { logger: deps.logger },
    );
  } catch (e) {
    if (e instanceof LeaseBusyError) return { ...report, skipped: "lease-busy" };
    throw e;
  }
}

/**
 * Start the periodic job; returns a stop function. interval 0 = off. Every instance ticks, but the
 * job runs about once per interval across all of them (lease + last-run time in the database).
 */
export function startCertificateMaintenance(deps: AppDeps): () => Promise<void> {
  const interval = deps.config.schedulerIntervalMs;
  if (interval <= 0) return async () => undefined;
  return every(interval, Math.min(interval, 5_000), () =>
    runOnceAcrossInstances(deps.db, "scheduler:maintenance-period", interval, () => runMaintenance(deps)).catch((e) =>
      deps.logger.error({ err: { name: (e as Error).name, message: (e as Error).message } }, "maintenance run failed"),
    ),
  );
}
