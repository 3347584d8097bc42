/**
 * ECC_NIST_EDWARDS25519 in the local KMS, behaviour by behaviour as AWS's KMS API Reference states
 * it, through the real @aws-sdk/client-kms over HTTP (ed25519.test.ts covers the SPKI, pure
 * Ed25519 against OpenSSL, and the signed note). Sources, quoted from the API model the SDK ships
 * (node_modules/@aws-sdk/client-kms/dist-types/models/models_0.d.ts, errors.d.ts):
 *
 * - API_Sign / API_Verify, MessageType: "When using ECC_NIST_EDWARDS25519 KMS keys:
 *   ED25519_SHA_512 signing algorithm requires KMS MessageType:RAW; ED25519_PH_SHA_512 signing
 *   algorithm requires KMS MessageType:DIGEST" — "When you specify the ED25519_PH_SHA_512 signing
 *   algorithm with MessageType:DIGEST, KMS still performs the SHA-512 prehash … the input is hashed
 *   twice" — "When the value of MessageType is DIGEST, the length of the Message value must match the
 *   length of hashed messages for the specified signing algorithm".
 *   https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 * - API_Sign, Message: at most 4096 bytes ("To sign a larger message, provide a message digest");
 *   the model's length constraint is 1–4096.
 * - API_CreateKey, KeySpec: "ECC_NIST_EDWARDS25519 (ed25519) - signing and verification only …
 *   These message types cannot be used interchangeably."
 *   https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
 * - InvalidKeyUsageException: "The encryption algorithm or signing algorithm specified for the
 *   operation is incompatible with the type of key material in the KMS key (KeySpec)".
 * - KMSInvalidSignatureException: "signature verification failed".
 * - Key states (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html): Sign,
 *   Verify and GetPublicKey on a Disabled key are DisabledException, on a key pending deletion
 *   KMSInvalidStateException; DescribeKey works in every state.
 * - DryRun: DryRunOperationException ("The request was rejected because the DryRun parameter was
 *   specified").
 */
import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetPublicKeyCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
  type MessageType,
  type SigningAlgorithmSpec,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ed25519phVerify } from "../../../scripts/kms/crypto/ed25519ph.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

let kms: LocalKms;
let client: KMSClient;
let keyId: string;
let pub: Buffer; // raw 32-byte Ed25519 public key

const newEdKey = async () =>
  (await client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!
    .KeyId!;

beforeAll(async () => {
  kms = await startLocalKms();
  client = kms.client({ maxAttempts: 1 });
  keyId = await newEdKey();
  pub = Buffer.from((await client.send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!.subarray(12));
});
afterAll(async () => {
  client?.destroy();
  await kms?.stop();
});

const sign = (Message: Uint8Array, SigningAlgorithm: string, MessageType?: MessageType, KeyId = keyId) =>
  client.send(
    new SignCommand({
      KeyId,
      Message,
      SigningAlgorithm: SigningAlgorithm as SigningAlgorithmSpec,
      ...(MessageType ? { MessageType } : {}),
    }),
  );
const verify = (
  Message: Uint8Array,
  Signature: Uint8Array,
  SigningAlgorithm: string,
  MessageType?: MessageType,
  KeyId = keyId,
) =>
  client.send(
    new VerifyCommand({
      KeyId,
      Message,
      Signature,
      SigningAlgorithm: SigningAlgorithm as SigningAlgorithmSpec,
      ...(MessageType ? { MessageType } : {}),
    }),
  );
const spki = () =>
  createPublicKey({
    key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), pub]),
    format: "der",
    type: "spki",
  });

describe("ED25519_PH_SHA_512 (HashEdDSA) with MessageType DIGEST", () => {
  const message = Buffer.from("a message too long to send, hashed by the caller\n");
  const digest = createHash("sha512").update(message).digest();

  it("signs the 64-byte digest as Ed25519ph's message (KMS prehashes it again), deterministically", async () => {
    const out = await sign(digest, "ED25519_PH_SHA_512", "DIGEST");
    expect(out.SigningAlgorithm).toBe("ED25519_PH_SHA_512");
    const sig = Buffer.from(out.Signature!);
    expect(sig).toHaveLength(64);
    expect(Buffer.from((await sign(digest, "ED25519_PH_SHA_512", "DIGEST")).Signature!)).toEqual(sig);
    // Ed25519ph over M = digest (RFC 8032 §5.1 PH(M) = SHA-512(digest)): "hashed twice".
    expect(ed25519phVerify(pub, digest, sig)).toBe(true);
    expect(ed25519phVerify(pub, message, sig)).toBe(false); // not a single hash of the message
    // Not pure Ed25519 over the digest, nor over the message (dom2 separates the schemes).
    expect(nodeVerify(null, digest, spki(), sig)).toBe(false);
    expect(nodeVerify(null, message, spki(), sig)).toBe(false);
  });

  it("Verify accepts it with DIGEST, refuses another digest, and refuses it as pure Ed25519", async () => {
    const sig = (await sign(digest, "ED25519_PH_SHA_512", "DIGEST")).Signature!;
    const ok = await verify(digest, sig, "ED25519_PH_SHA_512", "DIGEST");
    expect(ok).toMatchObject({ SignatureValid: true, SigningAlgorithm: "ED25519_PH_SHA_512" });
    const other = Buffer.from(digest);
    other[0]! ^= 1;
    await expect(verify(other, sig, "ED25519_PH_SHA_512", "DIGEST")).rejects.toMatchObject({
      name: "KMSInvalidSignatureException",
    });
    await expect(verify(digest, sig, "ED25519_SHA_512", "RAW")).rejects.toMatchObject({
      name: "KMSInvalidSignatureException",
    });
    const pure = (await sign(digest, "ED25519_SHA_512", "RAW")).Signature!;
    await expect(verify(digest, pure, "ED25519_PH_SHA_512", "DIGEST")).rejects.toMatchObject({
      name: "KMSInvalidSignatureException",
    });
  });

  it("a DIGEST that is not 64 bytes (SHA-512) is a ValidationException", async () => {
    for (const n of [32, 48, 63, 65]) {
      await expect(sign(new Uint8Array(n), "ED25519_PH_SHA_512", "DIGEST"), `${n}`).rejects.toMatchObject({
        name: "ValidationException",
      });
      await expect(
        verify(new Uint8Array(n), new Uint8Array(64), "ED25519_PH_SHA_512", "DIGEST"),
        `${n}`,
      ).rejects.toMatchObject({ name: "ValidationException" });
    }
  });
});

describe("message types cannot be used interchangeably", () => {
  const msg = Buffer.from("example.com/log\n1\n");

  it("MessageType defaults to RAW: ED25519_SHA_512 signs without it, ED25519_PH_SHA_512 refuses", async () => {
    const sig = (await sign(msg, "ED25519_SHA_512")).Signature!;
    expect(nodeVerify(null, msg, spki(), sig)).toBe(true);
    expect((await verify(msg, sig, "ED25519_SHA_512")).SignatureValid).toBe(true);
    await expect(sign(new Uint8Array(64), "ED25519_PH_SHA_512")).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("Verify with the other message type is a ValidationException, as Sign is", async () => {
    const sig = (await sign(msg, "ED25519_SHA_512", "RAW")).Signature!;
    await expect(verify(new Uint8Array(64), sig, "ED25519_SHA_512", "DIGEST")).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(verify(msg, sig, "ED25519_PH_SHA_512", "RAW")).rejects.toMatchObject({
      name: "ValidationException",
    });
  });

  it("algorithms of other key specs are InvalidKeyUsageException on Verify too", async () => {
    for (const alg of ["ECDSA_SHA_256", "ECDSA_SHA_512", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256"])
      await expect(verify(msg, new Uint8Array(64), alg, "RAW"), alg).rejects.toMatchObject({
        name: "InvalidKeyUsageException",
      });
  });
});

describe("message and signature sizes", () => {
  it("RAW messages of 1 to 4096 bytes are signed; 0 and 4097 bytes are a ValidationException", async () => {
    for (const n of [1, 4096]) {
      const m = Buffer.alloc(n, 0x61);
      const sig = (await sign(m, "ED25519_SHA_512", "RAW")).Signature!;
      expect(nodeVerify(null, m, spki(), sig), `${n}`).toBe(true);
    }
    for (const n of [0, 4097])
      await expect(sign(new Uint8Array(n), "ED25519_SHA_512", "RAW"), `${n}`).rejects.toMatchObject({
        name: "ValidationException",
      });
  });

  it("a signature of the wrong length fails verification (KMSInvalidSignatureException); an empty one is a ValidationException", async () => {
    const m = Buffer.from("x");
    const sig = Buffer.from((await sign(m, "ED25519_SHA_512", "RAW")).Signature!);
    for (const s of [sig.subarray(0, 63), Buffer.concat([sig, Buffer.of(0)])])
      await expect(verify(m, s, "ED25519_SHA_512", "RAW")).rejects.toMatchObject({
        name: "KMSInvalidSignatureException",
      });
    await expect(verify(m, new Uint8Array(0), "ED25519_SHA_512", "RAW")).rejects.toMatchObject({
      name: "ValidationException",
    });
  });
});

describe("key states, aliases and DryRun", () => {
  it("a disabled Ed25519 key refuses Sign, Verify and GetPublicKey with DisabledException, until enabled", async () => {
    const id = await newEdKey();
    const m = Buffer.from("m");
    const sig = (await sign(m, "ED25519_SHA_512", "RAW", id)).Signature!;
    await client.send(new DisableKeyCommand({ KeyId: id }));
    const d = (await client.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!;
    expect([d.KeyState, d.Enabled, d.KeySpec, d.SigningAlgorithms]).toEqual([
      "Disabled",
      false,
      "ECC_NIST_EDWARDS25519",
      ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    ]);
    await expect(sign(m, "ED25519_SHA_512", "RAW", id)).rejects.toMatchObject({ name: "DisabledException" });
    await expect(verify(m, sig, "ED25519_SHA_512", "RAW", id)).rejects.toMatchObject({ name: "DisabledException" });
    await expect(client.send(new GetPublicKeyCommand({ KeyId: id }))).rejects.toMatchObject({
      name: "DisabledException",
    });
    await client.send(new EnableKeyCommand({ KeyId: id }));
    expect((await verify(m, sig, "ED25519_SHA_512", "RAW", id)).SignatureValid).toBe(true);
  });

  it("a key pending deletion is KMSInvalidStateException", async () => {
    const id = await newEdKey();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }));
    await expect(sign(Buffer.from("m"), "ED25519_SHA_512", "RAW", id)).rejects.toMatchObject({
      name: "KMSInvalidStateException",
    });
    expect((await client.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!.KeyState).toBe("PendingDeletion");
  });

  it("signs through an alias; DryRun answers DryRunOperationException and signs nothing", async () => {
    await client.send(new CreateAliasCommand({ AliasName: "alias/fidelity/ed25519", TargetKeyId: keyId }));
    const m = Buffer.from("via alias");
    const out = await sign(m, "ED25519_SHA_512", "RAW", "alias/fidelity/ed25519");
    expect(out.KeyId).toMatch(new RegExp(`:key/${keyId}$`));
    expect(nodeVerify(null, m, spki(), out.Signature!)).toBe(true);
    await expect(
      client.send(
        new SignCommand({
          KeyId: keyId,
          Message: m,
          MessageType: "RAW",
          SigningAlgorithm: "ED25519_SHA_512",
          DryRun: true,
        }),
      ),
    ).rejects.toMatchObject({ name: "DryRunOperationException" });
  });
});
