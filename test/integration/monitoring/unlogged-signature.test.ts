/**
 * Reconciliation against the real local KMS process: a Sign made directly through the AWS SDK
 * (bypassing Kakunin) shows up in the KMS's CloudTrail files with the request id the SDK saw, and
 * the reconciler — whose recorded side knows only the signatures "Kakunin" made — reports it as
 * an unlogged signature naming that request id, while the recorded one matches.
 */
import { join } from "node:path";
import { CreateKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../../../server/monitoring/alert.js";
import { DirCloudTrailStore } from "../../../server/monitoring/cloudtrail-dir-store.js";
import { readCloudTrailWindow } from "../../../server/monitoring/cloudtrail-reader.js";
import { StaticKeyOwners } from "../../../server/monitoring/key-owners.js";
import { Reconciler } from "../../../server/monitoring/reconciler.js";
import { InMemoryRecordedSignatures } from "../../../server/monitoring/recorded-signatures.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

let kms: LocalKms;
let keyArn: string;
let loggedRequestId: string;
let directRequestId: string;
const SCOPE = { accounts: ["111122223333"], regions: ["eu-west-1"] };

beforeAll(async () => {
  kms = await startLocalKms();
  const client = kms.client();
  keyArn = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!
    .Arn!;
  const digest = new Uint8Array(32).fill(7);
  // One Sign "Kakunin" makes and records, one made directly on the agent's key.
  loggedRequestId = (
    await client.send(
      new SignCommand({
        KeyId: keyArn,
        Message: digest,
        MessageType: "DIGEST",
        SigningAlgorithm: "RSASSA_PSS_SHA_256",
      }),
    )
  ).$metadata.requestId!;
  directRequestId = (
    await client.send(
      new SignCommand({
        KeyId: keyArn,
        Message: Buffer.from("outside Kakunin"),
        SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
      }),
    )
  ).$metadata.requestId!;
  client.destroy();
});

afterAll(async () => {
  await kms?.stop();
});

/** Polls the KMS's CloudTrail folder until a Sign with `requestId` has been delivered (the KMS writes a file every 2 s). */
async function waitForDelivery(store: DirCloudTrailStore, requestId: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const read = await readCloudTrailWindow(store, Date.now() - 3_600_000, Date.now() + 60_000, { scope: SCOPE });
    if (read.events.some((e) => e.requestId === requestId)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`request ${requestId} not delivered to the CloudTrail folder within ${timeoutMs} ms`);
}

describe("unlogged signature, end to end", () => {
  it("the direct Sign appears in the KMS's CloudTrail file with the SDK's $metadata.requestId", async () => {
    const store = new DirCloudTrailStore(join(kms.dataDir, "cloudtrail"));
    await waitForDelivery(store, directRequestId);
    const read = await readCloudTrailWindow(store, Date.now() - 3_600_000, Date.now() + 60_000, { scope: SCOPE });
    const direct = read.events.find((e) => e.requestId === directRequestId)!;
    expect(direct).toMatchObject({
      eventName: "Sign",
      keyArn,
      errorCode: undefined,
      caller: { accessKeyId: "AKIDLOCALTEST" },
    });
    expect(read.problems).toEqual([]);
  });

  it("with an empty recorded set, the reconciler reports every Sign on the key as unlogged", async () => {
    const store = new DirCloudTrailStore(join(kms.dataDir, "cloudtrail"));
    await waitForDelivery(store, directRequestId);
    const published: Alert[] = [];
    const reconciler = new Reconciler({
      store,
      owners: new StaticKeyOwners([[keyArn, { role: "agent", issuerId: "iss_demo", agentId: "agt_demo" }]]),
      recorded: new InMemoryRecordedSignatures(),
      publish: (alerts) => published.push(...alerts),
      options: { graceMs: 0 },
    });
    const report = await reconciler.runOnce();
    expect(report).toMatchObject({ signEvents: 2, matched: 0, unlogged: 2, problems: [] });
    const direct = published.find((a) => a.evidence.requestId === directRequestId)!;
    expect(direct).toMatchObject({
      kind: "unlogged-signature",
      severity: "critical",
      agentId: "agt_demo",
      issuerId: "iss_demo",
      keyArn,
    });
    expect(direct.summary).toContain(directRequestId);
  });

  it("with Kakunin's own Sign recorded, only the direct one is unlogged; a second run raises nothing again", async () => {
    const store = new DirCloudTrailStore(join(kms.dataDir, "cloudtrail"));
    await waitForDelivery(store, directRequestId);
    const recorded = new InMemoryRecordedSignatures();
    recorded.record({
      keyArn,
      requestId: loggedRequestId,
      kind: "entry",
      ref: "1",
      issuerId: "iss_demo",
      agentId: "agt_demo",
    });
    const published: Alert[] = [];
    const reconciler = new Reconciler({
      store,
      owners: new StaticKeyOwners([[keyArn, { role: "agent", issuerId: "iss_demo", agentId: "agt_demo" }]]),
      recorded,
      publish: (alerts) => published.push(...alerts),
      options: { graceMs: 0 },
    });
    const report = await reconciler.runOnce();
    expect(report).toMatchObject({ signEvents: 2, matched: 1, unlogged: 1 });
    expect(published.map((a) => [a.kind, a.evidence.requestId])).toEqual([["unlogged-signature", directRequestId]]);
    expect((await reconciler.runOnce()).alerts).toEqual([]);
  });
});
