/**
 * Reconciliation of KMS Sign calls (CloudTrail) against Kakunin's recorded signatures, every
 * KAKUNIN_RECONCILE_INTERVAL_MS (default 5 min: CloudTrail delivers within about 5 minutes), once
 * across instances (server/jobs/once.ts). Alerts are stored by id, so a finding raised twice —
 * by two instances, or twice by one across a restart — is one alert.
 */
import type { AppDeps } from "../deps.js";
import { every, runOnceAcrossInstances } from "./once.js";

export function startKeyUsageReconciliation(deps: AppDeps): () => Promise<void> {
  const monitoring = deps.monitoring;
  const interval = deps.config.monitoring.reconcileIntervalMs;
  if (!monitoring?.reconciler) return async () => undefined;
  return every(interval, interval, async () => {
    try {
      const r = await runOnceAcrossInstances(deps.db, "scheduler:reconcile-key-usage", interval, () =>
        monitoring.reconcile(),
      );
      if (r.ran && r.value) {
        const { alerts, problems, ...counts } = r.value;
        deps.logger.info({ ...counts, alerts: alerts.length, problems: problems.length }, "key usage reconciled");
      }
    } catch (e) {
      deps.logger.error({ err: { name: (e as Error).name, message: (e as Error).message } }, "reconciliation failed");
    }
  });
}
