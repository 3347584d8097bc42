/** Reconciliation's pure core, the driver over the sample trail, the webhook signature and the settings. */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Alert } from "../../../server/monitoring/alert.js";
import type { KmsEvent } from "../../../server/monitoring/cloudtrail-event.js";
import { DirCloudTrailStore } from "../../../server/monitoring/cloudtrail-dir-store.js";
import { StaticKeyOwners, scopeOfKeys, type KeyOwner } from "../../../server/monitoring/key-owners.js";
import { loadMonitoringConfig } from "../../../server/monitoring/monitoring-config.js";
import { reconcile, reconciliationAlerts, signaturesToLookUp } from "../../../server/monitoring/reconcile.js";
import { Reconciler } from "../../../server/monitoring/reconciler.js";
import { InMemoryRecordedSignatures, type RecordedSignature } from "../../../server/monitoring/recorded-signatures.js";
import { signatureHeader, verifySignatureHeader } from "../../../server/monitoring/webhook-signature.js";

const KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OTHER = "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321";
const NOW = Date.parse("2024-05-14T12:00:00Z");
const AGENT: KeyOwner = { role: "agent", issuerId: "iss_acme", agentId: "agt_pay" };

const event = (over: Partial<KmsEvent>): KmsEvent => ({
  eventId: `ev-${over.requestId ?? "x"}`,
  requestId: "req-1",
  eventName: "Sign",
  eventTime: NOW - 3_600_000,
  region: "eu-west-1",
  account: "111122223333",
  keyArn: KEY,
  keyRef: KEY,
  errorCode: undefined,
  errorMessage: undefined,
  caller: {
    type: "IAMUser",
    arn: "arn:aws:iam::111122223333:user/Mallory",
    principalId: undefined,
    accessKeyId: "AKIAEXAMPLE",
    accountId: "111122223333",
    invokedBy: undefined,
  },
  sourceIpAddress: "192.0.2.66",
  userAgent: "aws-cli/2",
  ...over,
});
const recordedEntry = (requestId: string, keyArn = KEY): RecordedSignature => ({
  keyArn,
  requestId,
  kind: "entry",
  ref: "42",
  issuerId: "iss_acme",
  agentId: "agt_pay",
});

describe("reconcile (pure)", () => {
  const owners = new Map([[KEY, AGENT]]);

  it("matches recorded Signs, reports unrecorded ones, waits on young ones, and ignores the rest", () => {
    const events = [
      event({ requestId: "req-logged" }),
      event({ requestId: "req-unlogged" }),
      event({ requestId: "req-young", eventTime: NOW - 10_000 }),
      event({ requestId: "req-refused", errorCode: "DisabledException", errorMessage: `${KEY} is disabled.` }),
      event({ requestId: "req-foreign", keyArn: OTHER }),
      event({ requestId: "req-alias", keyArn: undefined, keyRef: "alias/x" }),
      event({ requestId: "req-gpk", eventName: "GetPublicKey" }),
      // A recorded request id on another key is no match.
      event({ requestId: "req-wrong-key" }),
    ];
    const recorded = new Map([
      ["req-logged", recordedEntry("req-logged")],
      ["req-wrong-key", recordedEntry("req-wrong-key", OTHER)],
    ]);
    const result = reconcile({ events, owners, recorded, nowMs: NOW, graceMs: 60_000 });
    expect(result.matched.map((m) => m.event.requestId)).toEqual(["req-logged"]);
    expect(result.unlogged.map((u) => u.event.requestId)).toEqual(["req-unlogged", "req-wrong-key"]);
    expect(result.pending.map((e) => e.requestId)).toEqual(["req-young"]);
    expect(result.refused.map((r) => r.event.requestId)).toEqual(["req-refused"]);
    expect(result.unresolved.map((e) => e.requestId)).toEqual(["req-alias"]);
    expect(result.foreign).toBe(1);
    expect(signaturesToLookUp(events, owners).map((r) => r.requestId)).toEqual([
      "req-logged",
      "req-unlogged",
      "req-young",
      "req-wrong-key",
    ]);
  });

  it("an unlogged signature is a critical alert naming the request id and the caller", () => {
    const result = reconcile({
      events: [event({ requestId: "req-unlogged" })],
      owners,
      recorded: new Map(),
      nowMs: NOW,
      graceMs: 0,
    });
    const [alert, ...rest] = reconciliationAlerts(result, NOW);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      kind: "unlogged-signature",
      severity: "critical",
      issuerId: "iss_acme",
      agentId: "agt_pay",
      keyArn: KEY,
      time: new Date(NOW).toISOString(),
      evidence: {
        source: "cloudtrail",
        requestId: "req-unlogged",
        callerArn: "arn:aws:iam::111122223333:user/Mallory",
        sourceIpAddress: "192.0.2.66",
        keyRole: "agent",
      },
    });
    expect(alert!.summary).toContain("req-unlogged");
    // The same finding always has the same id.
    expect(reconciliationAlerts(result, NOW + 1)[0]!.id).toBe(alert!.id);
  });

  it("refused Signs: key state and access denied alert, other refusals do not", () => {
    const events = [
      event({ requestId: "a", errorCode: "DisabledException" }),
      event({ requestId: "b", errorCode: "AccessDeniedException" }),
      event({ requestId: "c", errorCode: "ValidationException" }),
    ];
    const alerts = reconciliationAlerts(
      reconcile({ events, owners, recorded: new Map(), nowMs: NOW, graceMs: 0 }),
      NOW,
    );
    expect(alerts.map((a) => [a.kind, a.evidence.requestId])).toEqual([
      ["key-state", "a"],
      ["kms-access-denied", "b"],
    ]);
  });
});

describe("Reconciler over the sample trail", () => {
  const FIXTURES = fileURLToPath(new URL("../../fixtures/cloudtrail", import.meta.url));
  const ownKey = KEY;

  it("judges each Sign once across runs, and waits for young ones", async () => {
    const published: Alert[][] = [];
    const recorded = new InMemoryRecordedSignatures();
    const owners = new StaticKeyOwners([
      [ownKey, { role: "agent", issuerId: "iss_acme", agentId: "agt_pay" }],
      [OTHER, { role: "ca", issuerId: undefined, agentId: undefined }],
    ]);
    let now = Date.parse("2024-05-14T10:30:00Z");
    const reconciler = new Reconciler({
      store: new DirCloudTrailStore(FIXTURES),
      owners,
      recorded,
      publish: (alerts) => published.push(alerts),
      clock: () => now,
      options: { initialLookbackMs: 3_600_000, graceMs: 27 * 60_000 },
    });
    // Kakunin made the first Sign (the kakunin-service role's, on the agent key).
    const first = await import("../../../server/monitoring/cloudtrail-reader.js").then((m) =>
      m.readCloudTrailWindow(new DirCloudTrailStore(FIXTURES), 0, now, { scope: scopeOfKeys([ownKey]) }),
    );
    recorded.record({ ...recordedEntry(first.events[0]!.requestId), keyArn: ownKey });

    const run1 = await reconciler.runOnce();
    expect(run1).toMatchObject({
      logFilesRead: 2,
      digestFilesSkipped: 0,
      kmsEvents: 7,
      signEvents: 5,
      matched: 1,
      refused: 2,
      foreign: 0,
      problems: [],
    });
    // Grace ends at 10:03:00: Alice's 10:02:44 Sign (CA key, no record) is judged, her 10:03:15 one waits.
    expect(run1).toMatchObject({ unlogged: 1, pending: 1 });
    expect(run1.alerts.map((a) => [a.kind, a.evidence.eventTime]).sort()).toEqual([
      ["key-state", "2024-05-14T10:04:40.000Z"],
      ["kms-access-denied", "2024-05-14T10:12:01.000Z"],
      ["unlogged-signature", "2024-05-14T10:02:44.000Z"],
    ]);
    expect(run1.alerts.find((a) => a.kind === "unlogged-signature")).toMatchObject({
      keyArn: OTHER,
      agentId: null,
      evidence: { keyRole: "ca", keyRef: "0987dcba-09fe-87dc-65ba-ab0987654321" },
    });

    now += 60 * 60_000; // the digest (delivered 11:00) is in this window; only the waiting Sign is judged
    const run2 = await reconciler.runOnce();
    expect(run2).toMatchObject({ logFilesRead: 0, digestFilesSkipped: 1, signEvents: 1, unlogged: 1, pending: 0 });
    expect(run2.alerts.map((a) => [a.kind, a.evidence.keyRef])).toEqual([["unlogged-signature", "alias/payments-bot"]]);

    now += 60 * 60_000; // nothing new at all
    const run3 = await reconciler.runOnce();
    expect(run3).toMatchObject({ logFilesRead: 0, digestFilesSkipped: 0, signEvents: 0, alerts: [] });
    expect(published.map((alerts) => alerts.length)).toEqual([3, 1]);
  });
});

describe("webhook signature", () => {
  const secret = "s".repeat(32);
  it("verifies its own header, and nothing altered or stale", () => {
    const header = signatureHeader(secret, '{"a":1}', 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignatureHeader(secret, header, '{"a":1}', 1_700_000_100)).toBe(true);
    expect(verifySignatureHeader(secret, header, '{"a":2}', 1_700_000_100)).toBe(false);
    expect(verifySignatureHeader("t".repeat(32), header, '{"a":1}', 1_700_000_100)).toBe(false);
    expect(verifySignatureHeader(secret, header, '{"a":1}', 1_700_001_000)).toBe(false);
    expect(
      verifySignatureHeader(secret, header.replace("t=1700000000", "t=1700000001"), '{"a":1}', 1_700_000_100),
    ).toBe(false);
    expect(verifySignatureHeader(secret, "garbage", '{"a":1}', 1_700_000_100)).toBe(false);
  });
});

describe("monitoring settings", () => {
  it("reads the defaults and valid values", () => {
    expect(loadMonitoringConfig({})).toEqual({
      cloudTrail: undefined,
      reconcileIntervalMs: 300_000,
      cloudTrailTimeoutMs: 10_000,
      webhookUrl: undefined,
      webhookSecret: undefined,
    });
    const config = loadMonitoringConfig({
      KAKUNIN_CLOUDTRAIL: "s3://trail-bucket/p",
      KAKUNIN_RECONCILE_INTERVAL_MS: "60000",
      KAKUNIN_ALERT_WEBHOOK: "https://soc.example/hooks/kakunin",
      KAKUNIN_ALERT_WEBHOOK_SECRET: "x".repeat(40),
    });
    expect(config).toMatchObject({
      cloudTrail: { kind: "s3", bucket: "trail-bucket", prefix: "p/" },
      reconcileIntervalMs: 60_000,
      webhookUrl: "https://soc.example/hooks/kakunin",
    });
  });

  it("refuses bad values with the setting's name, never echoing the secret", () => {
    const secret = "short-secret-value";
    const attempt = (env: NodeJS.ProcessEnv) => {
      try {
        loadMonitoringConfig(env);
      } catch (err) {
        return err as Error & { code: string; setting: string };
      }
      throw new Error("accepted");
    };
    expect(attempt({ KAKUNIN_RECONCILE_INTERVAL_MS: "5m" })).toMatchObject({
      code: "ERR_MONITORING_CONFIG",
      setting: "KAKUNIN_RECONCILE_INTERVAL_MS",
    });
    expect(attempt({ KAKUNIN_RECONCILE_INTERVAL_MS: "10" }).message).toContain(">= 1000");
    expect(attempt({ KAKUNIN_ALERT_WEBHOOK: "ftp://x" }).setting).toBe("KAKUNIN_ALERT_WEBHOOK");
    expect(attempt({ KAKUNIN_ALERT_WEBHOOK: "https://u:p@x.example/" }).setting).toBe("KAKUNIN_ALERT_WEBHOOK");
    const noSecret = attempt({ KAKUNIN_ALERT_WEBHOOK: "https://x.example/", KAKUNIN_ALERT_WEBHOOK_SECRET: secret });
    expect(noSecret.setting).toBe("KAKUNIN_ALERT_WEBHOOK_SECRET");
    expect(noSecret.message).not.toContain(secret);
    expect(attempt({ KAKUNIN_CLOUDTRAIL: "bucket/x" }).setting).toBe("KAKUNIN_CLOUDTRAIL");
  });
});
