import type { Logger } from "pino";
import { atLeast, type Alert } from "./alert.js";
import type { AlertSink } from "./alert-sink.js";

/** Alerts as pino lines: `error` for high and critical, `warn` below; the whole alert under `alert`. */
export class LogAlertSink implements AlertSink {
  readonly name = "log";

  constructor(private readonly logger: Logger) {}

  async send(alert: Alert): Promise<void> {
    const line = {
      alert,
      alertId: alert.id,
      kind: alert.kind,
      severity: alert.severity,
      agentId: alert.agentId,
      issuerId: alert.issuerId,
    };
    if (atLeast(alert.severity, "high")) this.logger.error(line, `key-usage alert: ${alert.summary}`);
    else this.logger.warn(line, `key-usage alert: ${alert.summary}`);
  }
}
