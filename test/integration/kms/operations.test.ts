import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  VerifyCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { createPublicKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

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

const ARN_PREFIX = "arn:aws:kms:eu-west-1:111122223333";
let aliasCounter = 0;
const uniqueAlias = () => `alias/test-${process.pid}-${++aliasCounter}`;

async function newKey(keySpec: "RSA_2048" | "RSA_3072" | "RSA_4096" | "ECC_NIST_P256" = "RSA_2048") {
  const out = await client.send(new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: "SIGN_VERIFY" }));
  return out.KeyMetadata!;
}

describe("CreateKey and DescribeKey", () => {
  it("returns KeyMetadata shaped like real KMS", async () => {
    const before = Date.now();
    const out = await client.send(
      new CreateKeyCommand({
        KeySpec: "RSA_2048",
        KeyUsage: "SIGN_VERIFY",
        Description: "agent key",
        Tags: [{ TagKey: "agent", TagValue: "a-1" }],
      }),
    );
    const meta = out.KeyMetadata!;
    expect(meta.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(meta).toMatchObject({
      Arn: `${ARN_PREFIX}:key/${meta.KeyId}`,
      AWSAccountId: "111122223333",
      Enabled: true,
      KeyState: "Enabled",
      KeyUsage: "SIGN_VERIFY",
      KeySpec: "RSA_2048",
      CustomerMasterKeySpec: "RSA_2048",
      Description: "agent key",
      KeyManager: "CUSTOMER",
      Origin: "AWS_KMS",
      MultiRegion: false,
    });
    expect(meta.SigningAlgorithms).toEqual([
      "RSASSA_PSS_SHA_256",
      "RSASSA_PSS_SHA_384",
      "RSASSA_PSS_SHA_512",
      "RSASSA_PKCS1_V1_5_SHA_256",
      "RSASSA_PKCS1_V1_5_SHA_384",
      "RSASSA_PKCS1_V1_5_SHA_512",
    ]);
    // The SDK parses epoch-seconds numbers into Dates.
    expect(meta.CreationDate).toBeInstanceOf(Date);
    expect(meta.CreationDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(meta.DeletionDate).toBeUndefined();

    const described = await client.send(new DescribeKeyCommand({ KeyId: meta.KeyId }));
    expect(described.KeyMetadata).toEqual(meta);
    const tags = await client.send(new ListResourceTagsCommand({ KeyId: meta.KeyId }));
    expect(tags.Tags).toEqual([{ TagKey: "agent", TagValue: "a-1" }]);
  });

  it.each([
    ["RSA_3072", 3072],
    ["RSA_4096", 4096],
  ] as const)("creates %s keys whose public key has the right size", async (spec, bits) => {
    const meta = await newKey(spec);
    const pub = await client.send(new GetPublicKeyCommand({ KeyId: meta.KeyId }));
    expect(pub.KeySpec).toBe(spec);
    const key = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: "der", type: "spki" });
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(bits);
  });

  it("creates ECC_NIST_P256 keys offering ECDSA_SHA_256 only", async () => {
    const meta = await newKey("ECC_NIST_P256");
    expect(meta.SigningAlgorithms).toEqual(["ECDSA_SHA_256"]);
    const pub = await client.send(new GetPublicKeyCommand({ KeyId: meta.KeyId }));
    const key = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: "der", type: "spki" });
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("rejects KeyUsage that does not fit the KeySpec with ValidationException", async () => {
    await expect(
      client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "ENCRYPT_DECRYPT" })),
    ).rejects.toMatchObject({
      name: "ValidationException",
    });
  });

  it("rejects an invalid policy document", async () => {
    await expect(
      client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY", Policy: "{not json" })),
    ).rejects.toMatchObject({
      name: "MalformedPolicyDocumentException",
    });
  });
});

describe("KeyId forms", () => {
  it("DescribeKey, GetPublicKey, Sign and Verify accept key id, key ARN, alias name and alias ARN", async () => {
    const meta = await newKey();
    const alias = uniqueAlias();
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: meta.KeyId }));
    const forms = [meta.KeyId!, meta.Arn!, alias, `${ARN_PREFIX}:${alias}`];
    for (const keyId of forms) {
      expect((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyId).toBe(meta.KeyId);
      expect((await client.send(new GetPublicKeyCommand({ KeyId: keyId }))).KeyId).toBe(meta.Arn);
      const signed = await client.send(
        new SignCommand({ KeyId: keyId, Message: Buffer.from("m"), SigningAlgorithm: "RSASSA_PSS_SHA_256" }),
      );
      expect(signed.KeyId).toBe(meta.Arn);
      const verified = await client.send(
        new VerifyCommand({
          KeyId: keyId,
          Message: Buffer.from("m"),
          Signature: signed.Signature,
          SigningAlgorithm: "RSASSA_PSS_SHA_256",
        }),
      );
      expect(verified.SignatureValid).toBe(true);
    }
  });

  it("management operations take a key id or key ARN but not an alias", async () => {
    const meta = await newKey();
    const alias = uniqueAlias();
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: meta.KeyId }));
    await client.send(new DisableKeyCommand({ KeyId: meta.Arn }));
    await client.send(new EnableKeyCommand({ KeyId: meta.Arn }));
    await expect(client.send(new DisableKeyCommand({ KeyId: alias }))).rejects.toMatchObject({
      name: "NotFoundException",
    });
    await expect(
      client.send(new TagResourceCommand({ KeyId: alias, Tags: [{ TagKey: "a", TagValue: "b" }] })),
    ).rejects.toMatchObject({
      name: "NotFoundException",
    });
    await expect(client.send(new ScheduleKeyDeletionCommand({ KeyId: alias }))).rejects.toMatchObject({
      name: "NotFoundException",
    });
  });

  it("unknown keys and aliases are NotFoundException", async () => {
    const missing = "00000000-0000-4000-8000-000000000000";
    for (const keyId of [
      missing,
      `${ARN_PREFIX}:key/${missing}`,
      "alias/does-not-exist",
      `${ARN_PREFIX}:alias/does-not-exist`,
      "not-a-key",
    ]) {
      await expect(client.send(new DescribeKeyCommand({ KeyId: keyId }))).rejects.toMatchObject({
        name: "NotFoundException",
        $metadata: { httpStatusCode: 400 },
      });
    }
    // An ARN from another account or region is not ours.
    const meta = await newKey();
    await expect(
      client.send(new DescribeKeyCommand({ KeyId: meta.Arn!.replace("111122223333", "999999999999") })),
    ).rejects.toMatchObject({
      name: "NotFoundException",
    });
  });
});

describe("ListKeys", () => {
  it("pages with Limit and Marker and covers every key exactly once", async () => {
    const created = await Promise.all([newKey(), newKey(), newKey()]);
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const out = await client.send(new ListKeysCommand({ Limit: 2, Marker: marker }));
      expect(out.Keys!.length).toBeLessThanOrEqual(2);
      for (const k of out.Keys!) {
        expect(k.KeyArn).toBe(`${ARN_PREFIX}:key/${k.KeyId}`);
        seen.push(k.KeyId!);
      }
      expect(out.Truncated).toBe(out.NextMarker !== undefined);
      marker = out.NextMarker;
      pages++;
    } while (marker);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    for (const k of created) expect(seen).toContain(k.KeyId);

    const all = await client.send(new ListKeysCommand({}));
    expect(all.Truncated).toBe(false);
    expect(all.Keys!.length).toBe(seen.length);
  });

  it("rejects an out-of-range Limit and a bogus Marker", async () => {
    await expect(client.send(new ListKeysCommand({ Limit: 0 }))).rejects.toMatchObject({ name: "ValidationException" });
    await expect(client.send(new ListKeysCommand({ Marker: "bogus" }))).rejects.toMatchObject({
      name: "ValidationException",
    });
  });
});

describe("Tags", () => {
  it("TagResource adds and overwrites tags; ListResourceTags pages them", async () => {
    const meta = await newKey();
    await client.send(
      new TagResourceCommand({
        KeyId: meta.KeyId,
        Tags: [
          { TagKey: "b", TagValue: "1" },
          { TagKey: "a", TagValue: "1" },
        ],
      }),
    );
    await client.send(
      new TagResourceCommand({
        KeyId: meta.Arn,
        Tags: [
          { TagKey: "b", TagValue: "2" },
          { TagKey: "c", TagValue: "3" },
        ],
      }),
    );
    const first = await client.send(new ListResourceTagsCommand({ KeyId: meta.KeyId, Limit: 2 }));
    expect(first.Tags).toEqual([
      { TagKey: "a", TagValue: "1" },
      { TagKey: "b", TagValue: "2" },
    ]);
    expect(first.Truncated).toBe(true);
    const second = await client.send(
      new ListResourceTagsCommand({ KeyId: meta.KeyId, Limit: 2, Marker: first.NextMarker }),
    );
    expect(second.Tags).toEqual([{ TagKey: "c", TagValue: "3" }]);
    expect(second.Truncated).toBe(false);
  });

  it("reserved aws: tag keys are a TagException", async () => {
    const meta = await newKey();
    await expect(
      client.send(new TagResourceCommand({ KeyId: meta.KeyId, Tags: [{ TagKey: "aws:x", TagValue: "1" }] })),
    ).rejects.toMatchObject({
      name: "TagException",
    });
  });
});

describe("Aliases", () => {
  it("CreateAlias and ListAliases (all, and by KeyId)", async () => {
    const [k1, k2] = await Promise.all([newKey(), newKey()]);
    const a1 = uniqueAlias();
    const a2 = uniqueAlias();
    await client.send(new CreateAliasCommand({ AliasName: a1, TargetKeyId: k1.KeyId }));
    await client.send(new CreateAliasCommand({ AliasName: a2, TargetKeyId: k2.Arn }));

    const all = await client.send(new ListAliasesCommand({}));
    const names = all.Aliases!.map((a) => a.AliasName);
    expect(names).toEqual(expect.arrayContaining([a1, a2]));

    const byKey = await client.send(new ListAliasesCommand({ KeyId: k2.KeyId }));
    expect(byKey.Aliases).toHaveLength(1);
    expect(byKey.Aliases![0]).toMatchObject({ AliasName: a2, AliasArn: `${ARN_PREFIX}:${a2}`, TargetKeyId: k2.KeyId });
    expect(byKey.Aliases![0]!.CreationDate).toBeInstanceOf(Date);
  });

  it("ListAliases pages with Limit and Marker", async () => {
    const k = await newKey();
    for (let i = 0; i < 3; i++)
      await client.send(new CreateAliasCommand({ AliasName: uniqueAlias(), TargetKeyId: k.KeyId }));
    const first = await client.send(new ListAliasesCommand({ KeyId: k.KeyId, Limit: 2 }));
    expect(first.Aliases).toHaveLength(2);
    expect(first.Truncated).toBe(true);
    const second = await client.send(new ListAliasesCommand({ KeyId: k.KeyId, Limit: 2, Marker: first.NextMarker }));
    expect(second.Aliases).toHaveLength(1);
    expect(second.Truncated).toBe(false);
  });

  it("an existing alias name is AlreadyExistsException", async () => {
    const k = await newKey();
    const alias = uniqueAlias();
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: k.KeyId }));
    await expect(client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: k.KeyId }))).rejects.toMatchObject(
      {
        name: "AlreadyExistsException",
        $metadata: { httpStatusCode: 400 },
      },
    );
  });

  it("alias names must start with alias/ and not alias/aws/", async () => {
    const k = await newKey();
    for (const name of ["no-prefix", "alias/aws/reserved", "alias/bad name"]) {
      await expect(
        client.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k.KeyId })),
      ).rejects.toMatchObject({
        name: "ValidationException",
      });
    }
  });

  it("an alias cannot point to an unknown key", async () => {
    await expect(
      client.send(
        new CreateAliasCommand({ AliasName: uniqueAlias(), TargetKeyId: "00000000-0000-4000-8000-000000000000" }),
      ),
    ).rejects.toMatchObject({ name: "NotFoundException" });
  });
});

describe("Key policy", () => {
  it("has a default policy named default; PutKeyPolicy replaces it", async () => {
    const k = await newKey();
    const initial = await client.send(new GetKeyPolicyCommand({ KeyId: k.KeyId }));
    expect(initial.PolicyName).toBe("default");
    expect(JSON.parse(initial.Policy!)).toMatchObject({ Version: "2012-10-17" });

    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Sign", Resource: "*" }],
    });
    await client.send(new PutKeyPolicyCommand({ KeyId: k.Arn, PolicyName: "default", Policy: policy }));
    expect((await client.send(new GetKeyPolicyCommand({ KeyId: k.KeyId, PolicyName: "default" }))).Policy).toBe(policy);
    // PolicyName is optional.
    await client.send(new PutKeyPolicyCommand({ KeyId: k.KeyId, Policy: initial.Policy }));
    expect((await client.send(new GetKeyPolicyCommand({ KeyId: k.KeyId }))).Policy).toBe(initial.Policy);
  });

  it("only the policy named default exists; malformed documents are rejected", async () => {
    const k = await newKey();
    await expect(client.send(new GetKeyPolicyCommand({ KeyId: k.KeyId, PolicyName: "other" }))).rejects.toMatchObject({
      name: "NotFoundException",
    });
    await expect(client.send(new PutKeyPolicyCommand({ KeyId: k.KeyId, Policy: "nope" }))).rejects.toMatchObject({
      name: "MalformedPolicyDocumentException",
    });
  });
});

describe("ScheduleKeyDeletion and CancelKeyDeletion", () => {
  it("schedules with the default 30-day window and reports DeletionDate", async () => {
    const k = await newKey();
    const before = Date.now();
    const out = await client.send(new ScheduleKeyDeletionCommand({ KeyId: k.KeyId }));
    expect(out).toMatchObject({ KeyId: k.Arn, KeyState: "PendingDeletion", PendingWindowInDays: 30 });
    const days = (out.DeletionDate!.getTime() - before) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    const meta = (await client.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata!;
    expect(meta).toMatchObject({ KeyState: "PendingDeletion", Enabled: false });
    expect(meta.DeletionDate).toEqual(out.DeletionDate);
  });

  it("accepts windows of 7 to 30 days only", async () => {
    const k = await newKey();
    await expect(
      client.send(new ScheduleKeyDeletionCommand({ KeyId: k.KeyId, PendingWindowInDays: 6 })),
    ).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(
      client.send(new ScheduleKeyDeletionCommand({ KeyId: k.KeyId, PendingWindowInDays: 31 })),
    ).rejects.toMatchObject({
      name: "ValidationException",
    });
    const out = await client.send(new ScheduleKeyDeletionCommand({ KeyId: k.KeyId, PendingWindowInDays: 7 }));
    expect(out.PendingWindowInDays).toBe(7);
  });

  it("CancelKeyDeletion leaves the key Disabled", async () => {
    const k = await newKey();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: k.KeyId, PendingWindowInDays: 7 }));
    const out = await client.send(new CancelKeyDeletionCommand({ KeyId: k.Arn }));
    expect(out.KeyId).toBe(k.Arn);
    const meta = (await client.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata!;
    expect(meta).toMatchObject({ KeyState: "Disabled", Enabled: false });
    expect(meta.DeletionDate).toBeUndefined();
    await client.send(new EnableKeyCommand({ KeyId: k.KeyId }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata!.KeyState).toBe("Enabled");
  });
});
