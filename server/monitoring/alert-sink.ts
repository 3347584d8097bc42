import type { Logger } from "pino";
import type { Alert } from "./alert.js";

/** Somewhere alerts go: a webhook, the log, later the issuer's chain and `/v1/alerts`. */
export interface AlertSink {
  /** For messages about the sink itself (never a secret or a full URL with credentials). */
  readonly name: string;
  send(alert: Alert): Promise<void>;
}

/**
 * Hands every alert to every sink without making the caller wait: detection runs on the request
 * path and must not slow down because a webhook is slow or down. At most `maxInFlight` deliveries
 * run at once; beyond that, deliveries are dropped and counted (and logged) — an alert storm
 * must not exhaust memory.
 */
export class AlertDispatcher {
  private inFlight = 0;
  private readonly deliveries = new Set<Promise<void>>();
  /** Deliveries dropped because too many were in flight. */
  dropped = 0;
  /** Deliveries a sink gave up on. */
  failed = 0;

  constructor(
    private readonly sinks: readonly AlertSink[],
    private readonly logger: Logger,
    private readonly maxInFlight = 1_000,
  ) {}

  publish(alerts: readonly Alert[]): void {
    for (const alert of alerts) {
      for (const sink of this.sinks) {
        if (this.inFlight >= this.maxInFlight) {
          this.dropped++;
          this.logger.error(
            { alertId: alert.id, sink: sink.name, dropped: this.dropped },
            "alert delivery dropped: too many deliveries in flight",
          );
          continue;
        }
        this.inFlight++;
        const delivery: Promise<void> = sink
          .send(alert)
          .catch((err: unknown) => {
            this.failed++;
            this.logger.error(
              {
                alertId: alert.id,
                sink: sink.name,
                err: { code: (err as { code?: string }).code, message: (err as Error).message },
              },
              "alert delivery failed",
            );
          })
          .finally(() => {
            this.inFlight--;
            this.deliveries.delete(delivery);
          });
        this.deliveries.add(delivery);
      }
    }
  }

  /** Resolves when every delivery started so far has finished (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }
}
