/**
 * server/kms/sign-client.ts: the direct Sign path. Its SigV4 signature is the one the SDK's own signer
 * (@smithy/signature-v4, what @aws-sdk/client-kms uses) computes for the same request; against the
 * real local KMS it produces signatures openssl verifies, and its errors map like the SDK's.
 */
import { createHash } from "node:crypto";
import { CreateKeyCommand, DisableKeyCommand, GetPublicKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyCustody } from "../../../server/kms/custody.js";
import { KmsSignClient, signV4 } from "../../../server/kms/sign-client.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { opensslVerify } from "./openssl.js";

describe("SigV4 of the direct Sign path", () => {
  const body = JSON.stringify({
    KeyId: "arn:aws:kms:eu-west-1:111122223333:key/abc",
    Message: "AAAA",
    MessageType: "DIGEST",
    SigningAlgorithm: "RSASSA_PSS_SHA_256",
  });
  const now = Date.UTC(2026, 10, 26, 1, 2, 3, 456);
  for (const sessionToken of [undefined, "FwoGZXIvYXdzEXAMPLETOKEN//+="]) {
    for (const host of ["kms.eu-west-1.amazonaws.com", "127.0.0.1:4599"]) {
      it(`matches @smithy/signature-v4 (${host}${sessionToken ? ", session token" : ""})`, async () => {
        const credentials = {
          accessKeyId: "AKIDEXAMPLE",
          secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
          ...(sessionToken ? { sessionToken } : {}),
        };
        const ours = signV4({ credentials, region: "eu-west-1", host, target: "TrentService.Sign", body, now });
        const sdk = new SignatureV4({
          credentials,
          region: "eu-west-1",
          service: "kms",
          sha256: new KMSClient({ region: "eu-west-1" }).config.sha256,
        });
        const signed = await sdk.sign(
          {
            method: "POST",
            protocol: "https:",
            hostname: host.split(":")[0]!,
            path: "/",
            query: {},
            headers: {
              "content-type": ours["content-type"]!,
              host,
              "x-amz-target": "TrentService.Sign",
              "x-amz-date": ours["x-amz-date"]!,
            },
            body,
          },
          { signingDate: new Date(now) },
        );
        expect(ours.authorization).toBe(signed.headers.authorization);
        expect(ours["x-amz-date"]).toBe("20261126T010203Z");
        if (sessionToken) expect(ours["x-amz-security-token"]).toBe(signed.headers["x-amz-security-token"]);
      });
    }
  }
});

describe("KmsSignClient against the local KMS", () => {
  let kms: LocalKms;
  let client: KMSClient;
  let keyArn: string;
  let publicKey: Uint8Array;
  beforeAll(async () => {
    kms = await startLocalKms();
    client = kms.client({ maxAttempts: 1 });
    const key = await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }));
    keyArn = key.KeyMetadata!.Arn!;
    publicKey = (await client.send(new GetPublicKeyCommand({ KeyId: keyArn }))).PublicKey!;
  });
  afterAll(async () => {
    client?.destroy();
    await kms?.stop();
  });

  it("signs digests (PSS and PKCS#1) that openssl verifies over the message", async () => {
    const signer = new KmsSignClient(client);
    const message = Buffer.from("direct sign path");
    const digest = createHash("sha256").update(message).digest();
    const pss = await signer.sign({ keyId: keyArn, digest, algorithm: "RSASSA_PSS_SHA_256" });
    expect(await opensslVerify({ publicKeyDer: publicKey, message, signature: pss.signature, pssSaltLength: 32 })).toBe(
      true,
    );
    const pkcs1 = await signer.sign({ keyId: keyArn, digest, algorithm: "RSASSA_PKCS1_V1_5_SHA_256" });
    expect(await opensslVerify({ publicKeyDer: publicKey, message, signature: pkcs1.signature })).toBe(true);
    // The KMS request id (x-amzn-RequestId) comes back with every signature, one per call.
    expect(pss.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(pkcs1.requestId).not.toBe(pss.requestId);
    const many = await Promise.all(
      Array.from({ length: 64 }, () => signer.sign({ keyId: keyArn, digest, algorithm: "RSASSA_PSS_SHA_256" })),
    );
    expect(new Set(many.map((s) => Buffer.from(s.signature).toString("hex"))).size).toBe(64); // PSS is randomised
    expect(new Set(many.map((s) => s.requestId)).size).toBe(64);
    signer.close();
  });

  it("errors map to the same typed errors as through the SDK", async () => {
    const key = await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }));
    const arn = key.KeyMetadata!.Arn!;
    await client.send(new DisableKeyCommand({ KeyId: arn }));
    const digest = new Uint8Array(32);
    const errorOf = (c: KeyCustody, a: string) =>
      c.signDigest(a, digest, "RSASSA_PSS_SHA_256").then(
        () => undefined,
        (e: { code?: string; status?: number; awsCode?: string }) => ({
          code: e.code,
          status: e.status,
          awsCode: e.awsCode,
        }),
      );
    const direct = new KeyCustody(client, { region: kms.region, allowedRegions: ["eu-west-1"] });
    const sdk = new KeyCustody(client, { region: kms.region, allowedRegions: ["eu-west-1"], signTransport: "sdk" });
    for (const a of [arn, "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000", "not-a-key"]) {
      const d = await errorOf(direct, a);
      expect(d, a).toBeDefined();
      expect(d, a).toEqual(await errorOf(sdk, a));
    }
    expect((await errorOf(direct, arn))!.code).toBe("ERR_KEY_STATE");
  });
});
