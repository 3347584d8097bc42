import type { Alert } from "./alert.js";
import type { AlertSink } from "./alert-sink.js";
import { MonitoringError } from "./errors.js";
import { signatureHeader } from "./webhook-signature.js";

/**
 * Alerts POSTed as JSON to `KAKUNIN_ALERT_WEBHOOK`, signed (webhook-signature.ts). Network errors,
 * timeouts, 408, 429 and 5xx are retried with exponential back-off and jitter (a `Retry-After`
 * is honoured up to the back-off cap); other answers are final. Every attempt has its own deadline.
 * The secret lives in a private field and never reaches a message; the URL appears in messages
 * as origin and path only (a query may carry a token).
 */
export interface WebhookOptions {
  url: string;
  secret: string | Uint8Array;
  /** Attempts in total (default 5). */
  attempts?: number;
  /** Deadline of one attempt, ms (default 5000). */
  attemptTimeoutMs?: number;
  /** First back-off, doubled per retry (default 500 ms). */
  backoffMs?: number;
  /** Longest back-off (default 30 s). */
  maxBackoffMs?: number;
  /** 0..1, for the jitter; injectable for determinism. */
  random?: () => number;
  /** Epoch ms, for the signature's timestamp. */
  clock?: () => number;
}

export class WebhookDeliveryError extends MonitoringError {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super("ERR_WEBHOOK_DELIVERY", message);
  }
}

export class WebhookAlertSink implements AlertSink {
  readonly name: string;
  readonly #secret: string | Uint8Array;
  private readonly url: string;
  private readonly attempts: number;
  private readonly attemptTimeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private readonly clock: () => number;

  constructor(options: WebhookOptions) {
    const url = new URL(options.url);
    this.name = `webhook ${url.origin}${url.pathname}`;
    this.url = options.url;
    this.#secret = options.secret;
    this.attempts = options.attempts ?? 5;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5_000;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? Date.now;
  }

  async send(alert: Alert): Promise<void> {
    const body = JSON.stringify(alert);
    let last = "";
    let lastStatus: number | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(this.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "kakunin-signature": signatureHeader(this.#secret, body, Math.floor(this.clock() / 1000)),
            "kakunin-alert-id": alert.id,
            "kakunin-delivery-attempt": String(attempt),
          },
          body,
          redirect: "error",
          signal: AbortSignal.timeout(this.attemptTimeoutMs),
        });
        await response.body?.cancel().catch(() => {});
        if (response.ok) return;
        lastStatus = response.status;
        last = `HTTP ${response.status}`;
        if (!retryable(response.status)) break;
        retryAfterMs = retryAfter(response.headers.get("retry-after"));
      } catch (err) {
        lastStatus = undefined;
        const e = err as Error & { cause?: { code?: string } };
        last =
          e.name === "TimeoutError"
            ? `no answer within ${this.attemptTimeoutMs} ms`
            : `${e.cause?.code ?? e.name}: ${e.message}`;
      }
      if (attempt < this.attempts) await sleep(Math.min(this.maxBackoffMs, retryAfterMs ?? this.backoff(attempt)));
    }
    throw new WebhookDeliveryError(`alert ${alert.id} not delivered to ${this.name}: ${last}`, lastStatus);
  }

  /** Exponential back-off with "equal jitter" (half fixed, half random): retries of many alerts do not arrive in lockstep. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1));
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }
}

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

function retryAfter(header: string | null): number | undefined {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
