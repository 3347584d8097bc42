/** The webhook sender against a real local HTTP server: signed bodies, retries, deadlines, no secret in errors. */
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { makeAlert, type Alert } from "../../../server/monitoring/alert.js";
import { AlertDispatcher } from "../../../server/monitoring/alert-sink.js";
import { LogAlertSink } from "../../../server/monitoring/log-sink.js";
import { WebhookAlertSink, WebhookDeliveryError } from "../../../server/monitoring/webhook-sink.js";
import { verifySignatureHeader } from "../../../server/monitoring/webhook-signature.js";

const SECRET = "whsec-0123456789abcdef0123456789abcdef";
const alert: Alert = makeAlert({
  findingKey: "unlogged-signature:test",
  timeMs: Date.parse("2024-05-14T12:00:00Z"),
  issuerId: "iss_acme",
  agentId: "agt_pay",
  keyArn: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  kind: "unlogged-signature",
  severity: "critical",
  summary: "KMS signed and Kakunin logged nothing",
  evidence: { requestId: "req-1" },
});

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A receiver answering each delivery with the next status of `script` (the last one repeats); "hang" never answers. */
async function receiver(script: (number | "hang")[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      const step = script[Math.min(received.length - 1, script.length - 1)]!;
      if (step === "hang") return;
      res.writeHead(step, step === 429 ? { "retry-after": "0" } : {}).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hooks/kakunin?token=query-secret`,
    received,
  };
}

describe("webhook sender", () => {
  it("signs the body with HMAC-SHA256 over '<t>.<body>', retries after a 500, and stops at the 200", async () => {
    const { url, received } = await receiver([500, 200]);
    await new WebhookAlertSink({ url, secret: SECRET, backoffMs: 50 }).send(alert);
    expect(received).toHaveLength(2);
    for (const [i, r] of received.entries()) {
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["kakunin-alert-id"]).toBe(alert.id);
      expect(r.headers["kakunin-delivery-attempt"]).toBe(String(i + 1));
      expect(JSON.parse(r.body)).toEqual(alert);
      // Verified here with node:crypto directly, not only with the library's own verifier.
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers["kakunin-signature"]))!;
      expect(match).not.toBeNull();
      expect(match[2]).toBe(createHmac("sha256", SECRET).update(`${match[1]}.${r.body}`).digest("hex"));
      expect(Math.abs(Number(match[1]) - Date.now() / 1000)).toBeLessThan(30);
      expect(verifySignatureHeader(SECRET, String(r.headers["kakunin-signature"]), r.body, Date.now() / 1000)).toBe(
        true,
      );
      expect(
        verifySignatureHeader(
          "another-secret-another-secret-xx",
          String(r.headers["kakunin-signature"]),
          r.body,
          Date.now() / 1000,
        ),
      ).toBe(false);
    }
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(20); // backed off (at least half of 50 ms, less timer slack)
  });

  it("retries 429 and 503, gives up after the attempts with a typed error that names neither secret nor query", async () => {
    const { url, received } = await receiver([429, 503]);
    const sink = new WebhookAlertSink({ url, secret: SECRET, attempts: 3, backoffMs: 10 });
    const err = (await sink.send(alert).catch((e: unknown) => e)) as WebhookDeliveryError;
    expect(err).toBeInstanceOf(WebhookDeliveryError);
    expect(err).toMatchObject({ code: "ERR_WEBHOOK_DELIVERY", status: 503 });
    expect(received).toHaveLength(3);
    expect(err.message).toContain("/hooks/kakunin");
    expect(err.message).not.toContain("query-secret");
    expect(err.message).not.toContain(SECRET);
    expect(JSON.stringify(sink)).not.toContain(SECRET);
  });

  it("does not retry a 4xx other than 408 and 429", async () => {
    const { url, received } = await receiver([400]);
    await expect(new WebhookAlertSink({ url, secret: SECRET, backoffMs: 10 }).send(alert)).rejects.toMatchObject({
      status: 400,
    });
    expect(received).toHaveLength(1);
  });

  it("bounds each attempt by its deadline: a receiver that never answers costs attempts × deadline, then an error", async () => {
    const { url, received } = await receiver(["hang"]);
    const started = Date.now();
    const err = await new WebhookAlertSink({ url, secret: SECRET, attempts: 2, attemptTimeoutMs: 300, backoffMs: 10 })
      .send(alert)
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(WebhookDeliveryError);
    expect((err as Error).message).toContain("no answer within 300 ms");
    expect(received).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a refused connection is retried and reported", async () => {
    const { url } = await receiver([200]);
    const closedUrl = url;
    server!.close();
    server = undefined;
    const err = await new WebhookAlertSink({ url: closedUrl, secret: SECRET, attempts: 2, backoffMs: 10 })
      .send(alert)
      .catch((e: Error) => e);
    expect((err as Error).message).toContain("ECONNREFUSED");
  });
});

describe("dispatcher and log sink", () => {
  it("delivers to every sink without making the caller wait; a failing sink is logged, not thrown", async () => {
    const { url, received } = await receiver([500]);
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }),
    );
    const dispatcher = new AlertDispatcher(
      [new WebhookAlertSink({ url, secret: SECRET, attempts: 2, backoffMs: 10 }), new LogAlertSink(logger)],
      logger,
    );
    const before = Date.now();
    dispatcher.publish([
      alert,
      { ...alert, id: "alr_000000000000000000000001", severity: "warning", kind: "new-token" },
    ]);
    expect(Date.now() - before).toBeLessThan(50);
    await dispatcher.flush();
    expect(received).toHaveLength(4);
    expect(dispatcher.failed).toBe(2);
    const alertLines = lines.filter(
      (l) => typeof l.msg === "string" && (l.msg as string).startsWith("key-usage alert"),
    );
    expect(alertLines.map((l) => [l.level, l.kind])).toEqual([
      [50, "unlogged-signature"],
      [40, "new-token"],
    ]);
    expect(lines.filter((l) => l.msg === "alert delivery failed")).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    expect(JSON.stringify(lines)).not.toContain("query-secret");
  });
});
