import { readFile } from "node:fs/promises";
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetPublicKeyCommand,
  PutKeyPolicyCommand,
  SignCommand,
  VerifyCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

/** The CloudTrail-shaped access log: one line per call, never message, signature or policy bytes. */
let kms: LocalKms;
let lines: Record<string, any>[];
let logText: string;
const message = Buffer.from("secret-ish message content that must not be logged 0123456789");
let signatureB64: string;
let keyArn: string;
const policy = JSON.stringify({ Version: "2012-10-17", Id: "very-distinctive-policy-id", Statement: [] });

beforeAll(async () => {
  kms = await startLocalKms();
  const client = kms.client();
  const meta = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!;
  keyArn = meta.Arn!;
  const signed = await client.send(
    new SignCommand({ KeyId: meta.KeyId, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" }),
  );
  signatureB64 = Buffer.from(signed.Signature!).toString("base64");
  await client.send(
    new VerifyCommand({
      KeyId: meta.KeyId,
      Message: message,
      Signature: signed.Signature,
      SigningAlgorithm: "RSASSA_PSS_SHA_256",
    }),
  );
  await client.send(new PutKeyPolicyCommand({ KeyId: meta.KeyId, Policy: policy }));
  await client.send(new DisableKeyCommand({ KeyId: meta.KeyId }));
  await client
    .send(new SignCommand({ KeyId: meta.KeyId, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" }))
    .catch(() => {});
  await client.send(new GetPublicKeyCommand({ KeyId: "alias/missing" })).catch(() => {});
  await client.send(new DescribeKeyCommand({ KeyId: meta.Arn }));
  client.destroy();
  await kms.stop(); // flushes the log
  logText = await readFile(kms.accessLogPath, "utf8");
  lines = logText
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, any>);
});

afterAll(async () => {
  await kms?.stop();
});

describe("access log", () => {
  it("has exactly one line per call, in order", () => {
    expect(lines.map((l) => l.eventName)).toEqual([
      "CreateKey",
      "Sign",
      "Verify",
      "PutKeyPolicy",
      "DisableKey",
      "Sign",
      "GetPublicKey",
      "DescribeKey",
    ]);
  });

  it("is CloudTrail-shaped", () => {
    for (const line of lines) {
      expect(line).toMatchObject({
        eventVersion: expect.any(String),
        eventSource: "kms.amazonaws.com",
        awsRegion: "eu-west-1",
        requestID: expect.any(String),
        userIdentity: { accessKeyId: "AKIDLOCALTEST" },
      });
      expect(new Date(line.eventTime).toISOString()).toBe(line.eventTime);
    }
    const sign = lines[1]!;
    expect(sign.requestParameters).toMatchObject({ signingAlgorithm: "RSASSA_PSS_SHA_256", messageType: "RAW" });
    expect(sign.requestParameters.keyId).toBeDefined();
    expect(sign.resources).toEqual([{ accountId: "111122223333", ARN: keyArn, type: "AWS::KMS::Key" }]);
    expect(sign.errorCode).toBeUndefined();
  });

  it("records failures with errorCode and errorMessage", () => {
    expect(lines[5]).toMatchObject({
      eventName: "Sign",
      errorCode: "DisabledException",
      errorMessage: `${keyArn} is disabled.`,
    });
    expect(lines[5]!.resources[0].ARN).toBe(keyArn);
    expect(lines[6]).toMatchObject({
      eventName: "GetPublicKey",
      errorCode: "NotFoundException",
      requestParameters: { keyId: "alias/missing" },
    });
    expect(lines[6]!.resources).toEqual([]);
  });

  it("never contains message, signature or policy bytes", () => {
    const forbidden = [
      message.toString("base64"),
      message.toString("utf8"),
      message.toString("hex"),
      signatureB64,
      signatureB64.slice(0, 40),
      "very-distinctive-policy-id",
    ];
    for (const needle of forbidden) expect(logText).not.toContain(needle);
    expect(logText).not.toContain(["BEGIN", "PRIVATE", "KEY"].join(" "));
  });
});
