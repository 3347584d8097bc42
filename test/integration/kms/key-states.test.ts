import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  VerifyCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

/** Key-state semantics as in the KMS key state table: which calls fail, with which error. */
let kms: LocalKms;
let client: KMSClient;

beforeAll(async () => {
  kms = await startLocalKms();
  client = kms.client();
});

afterAll(async () => {
  client?.destroy();
  await kms?.stop();
});

const message = Buffer.from("state test");

async function keyWithSignature() {
  const meta = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!;
  const signature = (
    await client.send(new SignCommand({ KeyId: meta.KeyId, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" }))
  ).Signature!;
  return { keyId: meta.KeyId!, arn: meta.Arn!, signature };
}

const signWith = (keyId: string) =>
  client.send(new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" }));
const verifyWith = (keyId: string, signature: Uint8Array) =>
  client.send(
    new VerifyCommand({ KeyId: keyId, Message: message, Signature: signature, SigningAlgorithm: "RSASSA_PSS_SHA_256" }),
  );
const publicKeyOf = (keyId: string) => client.send(new GetPublicKeyCommand({ KeyId: keyId }));

describe("a Disabled key", () => {
  it("refuses Sign, Verify and GetPublicKey with DisabledException '<arn> is disabled.' (HTTP 400, not retried)", async () => {
    const { keyId, arn, signature } = await keyWithSignature();
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    for (const call of [signWith(keyId), verifyWith(keyId, signature), publicKeyOf(keyId)]) {
      await expect(call).rejects.toMatchObject({
        name: "DisabledException",
        message: `${arn} is disabled.`,
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    }
  });

  it("refuses through an alias too", async () => {
    const { keyId } = await keyWithSignature();
    const alias = `alias/disabled-${keyId}`;
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    await expect(signWith(alias)).rejects.toMatchObject({ name: "DisabledException" });
  });

  it("is still described, tagged and listed; DisableKey again is a no-op; EnableKey brings it back", async () => {
    const { keyId, signature } = await keyWithSignature();
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({
      KeyState: "Disabled",
      Enabled: false,
    });
    await client.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "t", TagValue: "v" }] }));
    await client.send(new GetKeyPolicyCommand({ KeyId: keyId }));
    await client.send(new EnableKeyCommand({ KeyId: keyId }));
    expect((await verifyWith(keyId, signature)).SignatureValid).toBe(true);
    await signWith(keyId);
  });
});

describe("a key pending deletion", () => {
  it("refuses Sign, Verify and GetPublicKey with KMSInvalidStateException", async () => {
    const { keyId, signature } = await keyWithSignature();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    for (const call of [signWith(keyId), verifyWith(keyId, signature), publicKeyOf(keyId)]) {
      await expect(call).rejects.toMatchObject({
        name: "KMSInvalidStateException",
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    }
  });

  it("refuses EnableKey, DisableKey, ScheduleKeyDeletion, TagResource and CreateAlias with KMSInvalidStateException", async () => {
    const { keyId } = await keyWithSignature();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    const calls = [
      client.send(new EnableKeyCommand({ KeyId: keyId })),
      client.send(new DisableKeyCommand({ KeyId: keyId })),
      client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId })),
      client.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "t", TagValue: "v" }] })),
      client.send(new CreateAliasCommand({ AliasName: `alias/pending-${keyId}`, TargetKeyId: keyId })),
    ];
    for (const call of calls) await expect(call).rejects.toMatchObject({ name: "KMSInvalidStateException" });
  });

  it("can still be described, its tags and policy read", async () => {
    const { keyId } = await keyWithSignature();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe("PendingDeletion");
    await client.send(new ListResourceTagsCommand({ KeyId: keyId }));
    await client.send(new GetKeyPolicyCommand({ KeyId: keyId }));
  });
});

describe("CancelKeyDeletion", () => {
  it("on a key that is not pending deletion is KMSInvalidStateException", async () => {
    const { keyId } = await keyWithSignature();
    await expect(client.send(new CancelKeyDeletionCommand({ KeyId: keyId }))).rejects.toMatchObject({
      name: "KMSInvalidStateException",
    });
  });

  it("returns the key Disabled: Sign fails with DisabledException until EnableKey", async () => {
    const { keyId } = await keyWithSignature();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    await client.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    await expect(signWith(keyId)).rejects.toMatchObject({ name: "DisabledException" });
    await client.send(new EnableKeyCommand({ KeyId: keyId }));
    await signWith(keyId);
  });
});
