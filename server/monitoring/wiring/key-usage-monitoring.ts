import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../../db/schema.js";
import type { AuditLog } from "../../log/audit-log.js";
import type { LogStore } from "../../log/storage/log-store.js";
import { AlertDispatcher, type AlertSink } from "../alert-sink.js";
import type { Alert, Evidence } from "../alert.js";
import { AnomalyMonitor, type AnomalyMonitorOptions } from "../anomaly-monitor.js";
import { LogAlertSink } from "../log-sink.js";
import { openCloudTrailStore, type MonitoringConfig } from "../monitoring-config.js";
import type { Observation } from "../observation.js";
import { Reconciler, type ReconcileReport, type ReconcilerOptions } from "../reconciler.js";
import { WebhookAlertSink } from "../webhook-sink.js";
import { AlertStore } from "./alert-store.js";
import { ChainAlertSink } from "./chain-sink.js";
import { DbKeyOwners } from "./db-key-owners.js";
import { DbRecordedSignatures } from "./db-recorded-signatures.js";

export interface KeyUsageMonitoringOptions {
  config: MonitoringConfig;
  db: Kysely<Database>;
  store: LogStore;
  /** Alerts about an agent become `key.anomaly` entries on its issuer's chain. */
  log: AuditLog | undefined;
  region: string;
  logger: Logger;
  /**
   * The issuer's response to a critical alert about one of its agents (token suspension), awaited
   * before the alert is delivered; what it returns is added to the evidence as `response`.
   */
  respond?: (alert: Alert) => Promise<Evidence | undefined>;
  /** Detector settings (tests shorten the warm-up). */
  monitor?: Partial<AnomalyMonitorOptions>;
  reconciler?: Partial<ReconcilerOptions>;
}

/**
 * One per process: the anomaly detectors fed from the request path, the reconciler over
 * CloudTrail (when KAKUNIN_CLOUDTRAIL is set), and the alert fan-out — the alerts table,
 * the issuer's chain, pino, and the webhook when configured.
 */
export class KeyUsageMonitoring {
  readonly alerts: AlertStore;
  readonly reconciler: Reconciler | undefined;
  private readonly monitor: AnomalyMonitor;
  private readonly dispatcher: AlertDispatcher;
  private readonly db: Kysely<Database>;
  private readonly logger: Logger;
  private readonly respond: KeyUsageMonitoringOptions["respond"];
  /** Responses under way (reconcile() and close() wait for them). */
  private readonly responding = new Set<Promise<void>>();

  constructor(o: KeyUsageMonitoringOptions) {
    this.db = o.db;
    this.logger = o.logger;
    this.respond = o.respond;
    this.alerts = new AlertStore(o.db);
    const sinks: AlertSink[] = [this.alerts, new LogAlertSink(o.logger)];
    if (o.log) sinks.push(new ChainAlertSink(o.log));
    if (o.config.webhookUrl && o.config.webhookSecret)
      sinks.push(new WebhookAlertSink({ url: o.config.webhookUrl, secret: o.config.webhookSecret }));
    this.dispatcher = new AlertDispatcher(sinks, o.logger);
    this.monitor = new AnomalyMonitor(o.monitor);
    this.reconciler = o.config.cloudTrail
      ? new Reconciler({
          store: openCloudTrailStore(o.config.cloudTrail, {
            region: o.region,
            timeoutMs: o.config.cloudTrailTimeoutMs,
          }),
          owners: new DbKeyOwners(o.db),
          recorded: new DbRecordedSignatures(o.db, o.store),
          publish: (alerts) => this.publish(alerts),
          ...(o.reconciler ? { options: o.reconciler } : {}),
        })
      : undefined;
  }

  /** Feeds the detectors (synchronous, about a microsecond); alerts are delivered without waiting. */
  observe(observation: Observation): void {
    const alerts = this.monitor.observe(observation);
    if (alerts.length > 0) this.publish(alerts);
  }

  publish(alerts: readonly Alert[]): void {
    const ready = alerts.filter((a) => a.issuerId !== null || a.agentId === null);
    if (ready.length > 0) this.deliver(ready);
    // An authentication failure names the agent from the path but no issuer (nobody authenticated):
    // the agent's issuer is looked up here, off the request's path, so the issuer sees the alert too.
    const orphans = alerts.filter((a) => a.issuerId === null && a.agentId !== null);
    if (orphans.length > 0)
      void this.withIssuers(orphans).then(
        (resolved) => this.deliver(resolved),
        (err: unknown) => {
          this.logger.error({ err: (err as Error).message }, "could not resolve the issuer of an alert");
          this.dispatcher.publish(orphans);
        },
      );
  }

  /**
   * Hands alerts to the sinks; a critical alert about an agent first gets its issuer's response
   * (off the request path: the detectors never raise critical alerts, the reconciler and the fork
   * guard do), so the stored, logged and sent alert says what was done.
   */
  private deliver(alerts: Alert[]): void {
    const respond = this.respond;
    const needs = (a: Alert) => respond !== undefined && a.severity === "critical" && a.agentId !== null;
    const now = alerts.filter((a) => !needs(a));
    if (now.length > 0) this.dispatcher.publish(now);
    if (!respond) return;
    for (const alert of alerts.filter(needs)) {
      // A finding raised again (the reconciler re-reads a day of CloudTrail after a restart; another
      // instance) was answered the first time: it must not suspend tokens the issuer has resumed since.
      const task: Promise<void> = this.alerts
        .has(alert.id)
        .then((known) => (known ? undefined : respond(alert)))
        .then(
          (response) => (response ? { ...alert, evidence: { ...alert.evidence, response } } : alert),
          (err: unknown) => {
            this.logger.error(
              { alertId: alert.id, err: (err as Error).message },
              "the issuer's response to a critical alert failed",
            );
            return { ...alert, evidence: { ...alert.evidence, response: { error: "failed; see the server log" } } };
          },
        )
        .then((answered) => this.dispatcher.publish([answered]))
        .finally(() => this.responding.delete(task));
      this.responding.add(task);
    }
  }

  /** Resolves once every response started so far has been applied and its alert handed to the sinks. */
  async responsesSettled(): Promise<void> {
    while (this.responding.size > 0) await Promise.allSettled([...this.responding]);
  }

  private async withIssuers(alerts: Alert[]): Promise<Alert[]> {
    const ids = [...new Set(alerts.map((a) => a.agentId!))];
    const rows = await this.db.selectFrom("agents").select(["id", "issuer_id"]).where("id", "in", ids).execute();
    const issuerOf = new Map(rows.map((r) => [r.id, r.issuer_id]));
    return alerts.map((a) => ({ ...a, issuerId: issuerOf.get(a.agentId!) ?? null }));
  }

  /** One reconciliation run now; undefined when no CloudTrail location is configured. */
  async reconcile(): Promise<ReconcileReport | undefined> {
    const report = await this.reconciler?.runOnce();
    // The run's critical alerts have had their responses (tokens suspended) when it returns.
    await this.responsesSettled();
    return report;
  }

  /** Waits for alert deliveries under way (shutdown). */
  async close(): Promise<void> {
    await this.responsesSettled();
    await this.dispatcher.flush();
  }
}
