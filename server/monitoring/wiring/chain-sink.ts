import type { AuditLog } from "../../log/audit-log.js";
import type { Alert } from "../alert.js";
import type { AlertSink } from "../alert-sink.js";

/**
 * Each alert about an issuer's agent becomes a `key.anomaly` entry on that issuer's chain, signed
 * by the log signer, so that monitoring itself is auditable. The entry carries what identifies the
 * alert (id, kind, severity, time, key) — not its evidence: chains are exported and verified by
 * anyone holding them, and evidence names source addresses and KMS request ids, which stay behind
 * `GET /v1/alerts`. Alerts with no issuer (a CA or log key used outside Kakunin) have no chain.
 */
export class ChainAlertSink implements AlertSink {
  readonly name = "issuer chain";

  constructor(private readonly log: AuditLog) {}

  async send(alert: Alert): Promise<void> {
    if (alert.issuerId === null || alert.agentId === null) return;
    await this.log.appendLifecycle(alert.issuerId, {
      type: "key.anomaly",
      agent: alert.agentId,
      details: {
        alert: alert.id,
        kind: alert.kind,
        severity: alert.severity,
        raisedAt: alert.time,
        ...(alert.keyArn !== null ? { keyArn: alert.keyArn } : {}),
      },
    });
  }
}
