/** The local KMS's CloudTrail log files: gzip JSON Records in a trail's layout, request ids as KMS answered them. */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { CreateKeyCommand, DisableKeyCommand, GetPublicKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

let kms: LocalKms;
let files: string[];
let records: Record<string, any>[];
const requestIds: Record<string, string> = {};
const message = Buffer.from("message bytes that CloudTrail never records 9f8e7d6c5b4a");
let keyArn: string;

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

beforeAll(async () => {
  kms = await startLocalKms();
  const client = kms.client();
  const created = await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }));
  keyArn = created.KeyMetadata!.Arn!;
  const signed = await client.send(
    new SignCommand({ KeyId: created.KeyMetadata!.KeyId, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" }),
  );
  requestIds.sign = signed.$metadata.requestId!;
  requestIds.getPublicKey = (await client.send(new GetPublicKeyCommand({ KeyId: keyArn }))).$metadata.requestId!;
  requestIds.disable = (await client.send(new DisableKeyCommand({ KeyId: keyArn }))).$metadata.requestId!;
  const refused = await client
    .send(new SignCommand({ KeyId: keyArn, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" }))
    .catch((e: { $metadata: { requestId: string } }) => e);
  requestIds.refused = refused.$metadata.requestId!;
  client.destroy();
  await kms.stop(); // writes the last file
  files = await filesUnder(join(kms.dataDir, "cloudtrail"));
  records = [];
  for (const f of files) records.push(...JSON.parse(gunzipSync(await readFile(f)).toString("utf8")).Records);
});

afterAll(async () => {
  await kms?.stop();
});

describe("local KMS CloudTrail files", () => {
  it("are named and placed as a trail delivers them", () => {
    expect(files.length).toBeGreaterThanOrEqual(1);
    const day = new Date().toISOString().slice(0, 10).split("-").join("/");
    for (const f of files) {
      const rel = f.slice(join(kms.dataDir, "cloudtrail").length + 1);
      expect(rel).toMatch(
        /^AWSLogs\/111122223333\/CloudTrail\/eu-west-1\/\d{4}\/\d{2}\/\d{2}\/111122223333_CloudTrail_eu-west-1_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/,
      );
      // Written a moment ago (a run across midnight may name yesterday).
      expect([day, new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).split("-").join("/")]).toContain(
        rel.split("/").slice(4, 7).join("/"),
      );
    }
  });

  it("hold one record per call, with the request id the SDK saw in x-amzn-RequestId", () => {
    const signs = records.filter((r) => r.eventName === "Sign");
    expect(records.map((r) => r.eventName)).toEqual(["CreateKey", "Sign", "GetPublicKey", "DisableKey", "Sign"]);
    expect(signs[0]).toMatchObject({
      eventSource: "kms.amazonaws.com",
      awsRegion: "eu-west-1",
      requestID: requestIds.sign,
      recipientAccountId: "111122223333",
      requestParameters: { keyId: expect.any(String), signingAlgorithm: "RSASSA_PSS_SHA_256", messageType: "RAW" },
      resources: [{ accountId: "111122223333", type: "AWS::KMS::Key", ARN: keyArn }],
      userIdentity: { accessKeyId: "AKIDLOCALTEST" },
    });
    expect(signs[0]!.requestID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(records[2]!.requestID).toBe(requestIds.getPublicKey);
    expect(records[3]!.requestID).toBe(requestIds.disable);
    expect(signs[1]).toMatchObject({ requestID: requestIds.refused, errorCode: "DisabledException" });
    expect(new Set(records.map((r) => r.eventID)).size).toBe(records.length);
  });

  it("give eventTime in whole seconds, as CloudTrail does", () => {
    for (const r of records) expect(r.eventTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it("never hold message or signature bytes", async () => {
    const text = (await Promise.all(files.map(async (f) => gunzipSync(await readFile(f)).toString("utf8")))).join("\n");
    for (const needle of [message.toString("base64"), message.toString("utf8"), message.toString("hex")])
      expect(text).not.toContain(needle);
    expect(text).not.toContain('Signature"');
  });
});
