/**
 * UpdateAlias in the local KMS through @aws-sdk/client-kms, as the API Reference describes it
 * (https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateAlias.html): "Associates an existing
 * KMS alias with a different KMS key"; "The current and new KMS key must be the same type (both
 * symmetric or both asymmetric or both HMAC), and they must have the same key usage"; the alias must
 * exist; TargetKeyId is a key ID or key ARN (not an alias); the key must be in a compatible state
 * (a key pending deletion is KMSInvalidStateException). The log key rotation moves
 * alias/kakunin/tlog with it (server/authority/rotate-log-key.ts).
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

let kms: LocalKms;
let client: KMSClient;
beforeAll(async () => {
  kms = await startLocalKms();
  client = kms.client({ maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await kms?.stop();
});

const ed = async () =>
  (await client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!;
const update = (AliasName: string, TargetKeyId: string) =>
  client.send(new UpdateAliasCommand({ AliasName, TargetKeyId }));

describe("UpdateAlias", () => {
  it("moves an alias to another key of the same type and usage; lookups by alias follow it", async () => {
    const [a, b] = [await ed(), await ed()];
    await client.send(new CreateAliasCommand({ AliasName: "alias/u/log", TargetKeyId: a.KeyId }));
    const before = (await client.send(new ListAliasesCommand({ KeyId: a.KeyId }))).Aliases![0]!;
    await update("alias/u/log", b.Arn!);
    expect((await client.send(new DescribeKeyCommand({ KeyId: "alias/u/log" }))).KeyMetadata!.KeyId).toBe(b.KeyId);
    expect((await client.send(new ListAliasesCommand({ KeyId: a.KeyId }))).Aliases).toEqual([]);
    const after = (await client.send(new ListAliasesCommand({ KeyId: b.KeyId }))).Aliases![0]!;
    expect(after.CreationDate).toEqual(before.CreationDate);
    expect(after.LastUpdatedDate!.getTime()).toBeGreaterThanOrEqual(before.LastUpdatedDate!.getTime());
    // Another asymmetric signing key spec is the same "type" (asymmetric) and usage: allowed.
    const rsa = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" })))
      .KeyMetadata!;
    await update("alias/u/log", rsa.KeyId!);
    await update("alias/u/log", a.KeyId!);
  });

  it("refuses another key usage, a missing alias, an alias as target, and a key pending deletion", async () => {
    const a = await ed();
    await client.send(new CreateAliasCommand({ AliasName: "alias/u/strict", TargetKeyId: a.KeyId }));
    const enc = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" })))
      .KeyMetadata!;
    await expect(update("alias/u/strict", enc.KeyId!)).rejects.toMatchObject({ name: "ValidationException" });
    await expect(update("alias/u/missing", a.KeyId!)).rejects.toMatchObject({ name: "NotFoundException" });
    await expect(update("alias/u/strict", "alias/u/strict")).rejects.toMatchObject({ name: "NotFoundException" });
    const doomed = await ed();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.KeyId, PendingWindowInDays: 7 }));
    await expect(update("alias/u/strict", doomed.KeyId!)).rejects.toMatchObject({ name: "KMSInvalidStateException" });
    expect((await client.send(new DescribeKeyCommand({ KeyId: "alias/u/strict" }))).KeyMetadata!.KeyId).toBe(a.KeyId);
  });
});
