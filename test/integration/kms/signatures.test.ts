import { createHash, randomBytes } from "node:crypto";
import {
  CreateKeyCommand,
  DisableKeyCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
  type SigningAlgorithmSpec,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { opensslVerify } from "./openssl.js";

let kms: LocalKms;
let client: KMSClient;
let rsaKeyId: string;
let rsaPublicKey: Uint8Array;
let ecKeyId: string;
let ecPublicKey: Uint8Array;

beforeAll(async () => {
  kms = await startLocalKms();
  client = kms.client();
  const [rsa, ec] = await Promise.all([
    client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" })),
    client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" })),
  ]);
  rsaKeyId = rsa.KeyMetadata!.KeyId!;
  ecKeyId = ec.KeyMetadata!.KeyId!;
  rsaPublicKey = (await client.send(new GetPublicKeyCommand({ KeyId: rsaKeyId }))).PublicKey!;
  ecPublicKey = (await client.send(new GetPublicKeyCommand({ KeyId: ecKeyId }))).PublicKey!;
});

afterAll(async () => {
  client?.destroy();
  await kms?.stop();
});

const message = Buffer.from("Kakunin test message: agent-42 signs this");
const digestOf = (hash: string, data: Buffer) => createHash(hash).update(data).digest();

async function sign(keyId: string, algorithm: SigningAlgorithmSpec, messageType: "RAW" | "DIGEST", data: Uint8Array) {
  const out = await client.send(
    new SignCommand({ KeyId: keyId, Message: data, MessageType: messageType, SigningAlgorithm: algorithm }),
  );
  expect(out.SigningAlgorithm).toBe(algorithm);
  expect(out.KeyId).toMatch(/^arn:aws:kms:eu-west-1:111122223333:key\//);
  return out.Signature!;
}

describe("signatures verified independently with openssl", () => {
  it("RSASSA_PSS_SHA_256 over a DIGEST verifies with salt length 32", async () => {
    const signature = await sign(rsaKeyId, "RSASSA_PSS_SHA_256", "DIGEST", digestOf("sha256", message));
    expect(await opensslVerify({ publicKeyDer: rsaPublicKey, message, signature, pssSaltLength: 32 })).toBe(true);
  });

  it("RSASSA_PSS_SHA_256 over a RAW message verifies with salt length 32", async () => {
    const signature = await sign(rsaKeyId, "RSASSA_PSS_SHA_256", "RAW", message);
    expect(await opensslVerify({ publicKeyDer: rsaPublicKey, message, signature, pssSaltLength: 32 })).toBe(true);
    // and not against another message
    expect(
      await opensslVerify({ publicKeyDer: rsaPublicKey, message: Buffer.from("other"), signature, pssSaltLength: 32 }),
    ).toBe(false);
  });

  it("RSASSA_PSS_SHA_384 and _512 use salt = digest length", async () => {
    const s384 = await sign(rsaKeyId, "RSASSA_PSS_SHA_384", "RAW", message);
    expect(
      await opensslVerify({ publicKeyDer: rsaPublicKey, message, signature: s384, hash: "sha384", pssSaltLength: 48 }),
    ).toBe(true);
    const s512 = await sign(rsaKeyId, "RSASSA_PSS_SHA_512", "DIGEST", digestOf("sha512", message));
    expect(
      await opensslVerify({ publicKeyDer: rsaPublicKey, message, signature: s512, hash: "sha512", pssSaltLength: 64 }),
    ).toBe(true);
  });

  it("RSASSA_PKCS1_V1_5_SHA_256 (RAW and DIGEST) verifies", async () => {
    const raw = await sign(rsaKeyId, "RSASSA_PKCS1_V1_5_SHA_256", "RAW", message);
    const digest = await sign(rsaKeyId, "RSASSA_PKCS1_V1_5_SHA_256", "DIGEST", digestOf("sha256", message));
    // PKCS#1 v1.5 is deterministic: both paths give the same bytes.
    expect(Buffer.from(raw)).toEqual(Buffer.from(digest));
    expect(await opensslVerify({ publicKeyDer: rsaPublicKey, message, signature: raw })).toBe(true);
  });

  it("RSASSA_PKCS1_V1_5_SHA_512 verifies", async () => {
    const signature = await sign(rsaKeyId, "RSASSA_PKCS1_V1_5_SHA_512", "RAW", message);
    expect(await opensslVerify({ publicKeyDer: rsaPublicKey, message, signature, hash: "sha512" })).toBe(true);
  });

  it("ECDSA_SHA_256 (RAW and DIGEST) gives DER signatures that verify", async () => {
    const raw = await sign(ecKeyId, "ECDSA_SHA_256", "RAW", message);
    const digest = await sign(ecKeyId, "ECDSA_SHA_256", "DIGEST", digestOf("sha256", message));
    expect(raw[0]).toBe(0x30); // DER SEQUENCE
    expect(await opensslVerify({ publicKeyDer: ecPublicKey, message, signature: raw })).toBe(true);
    expect(await opensslVerify({ publicKeyDer: ecPublicKey, message, signature: digest })).toBe(true);
  });

  it("signs the maximum RAW message size of 4096 bytes", async () => {
    const big = randomBytes(4096);
    const signature = await sign(rsaKeyId, "RSASSA_PSS_SHA_256", "RAW", big);
    expect(await opensslVerify({ publicKeyDer: rsaPublicKey, message: big, signature, pssSaltLength: 32 })).toBe(true);
  });
});

describe("Verify", () => {
  it("accepts its own signatures for every RSA algorithm, RAW and DIGEST", async () => {
    const algorithms: [SigningAlgorithmSpec, string][] = [
      ["RSASSA_PSS_SHA_256", "sha256"],
      ["RSASSA_PSS_SHA_384", "sha384"],
      ["RSASSA_PSS_SHA_512", "sha512"],
      ["RSASSA_PKCS1_V1_5_SHA_256", "sha256"],
      ["RSASSA_PKCS1_V1_5_SHA_384", "sha384"],
      ["RSASSA_PKCS1_V1_5_SHA_512", "sha512"],
    ];
    for (const [algorithm, hash] of algorithms) {
      const signature = await sign(rsaKeyId, algorithm, "RAW", message);
      const out = await client.send(
        new VerifyCommand({
          KeyId: rsaKeyId,
          Message: digestOf(hash, message),
          MessageType: "DIGEST",
          Signature: signature,
          SigningAlgorithm: algorithm,
        }),
      );
      expect(out.SignatureValid).toBe(true);
    }
  });

  it("accepts ECDSA signatures, RAW and DIGEST", async () => {
    const signature = await sign(ecKeyId, "ECDSA_SHA_256", "DIGEST", digestOf("sha256", message));
    const raw = await client.send(
      new VerifyCommand({ KeyId: ecKeyId, Message: message, Signature: signature, SigningAlgorithm: "ECDSA_SHA_256" }),
    );
    expect(raw.SignatureValid).toBe(true);
    const digest = await client.send(
      new VerifyCommand({
        KeyId: ecKeyId,
        Message: digestOf("sha256", message),
        MessageType: "DIGEST",
        Signature: signature,
        SigningAlgorithm: "ECDSA_SHA_256",
      }),
    );
    expect(digest.SignatureValid).toBe(true);
  });

  it("rejects a tampered signature or message with KMSInvalidSignatureException", async () => {
    const signature = Buffer.from(await sign(rsaKeyId, "RSASSA_PSS_SHA_256", "RAW", message));
    const tampered = Buffer.from(signature);
    tampered[10]! ^= 0x01;
    await expect(
      client.send(
        new VerifyCommand({
          KeyId: rsaKeyId,
          Message: message,
          Signature: tampered,
          SigningAlgorithm: "RSASSA_PSS_SHA_256",
        }),
      ),
    ).rejects.toMatchObject({ name: "KMSInvalidSignatureException", $metadata: { httpStatusCode: 400 } });
    await expect(
      client.send(
        new VerifyCommand({
          KeyId: rsaKeyId,
          Message: Buffer.from("x"),
          Signature: signature,
          SigningAlgorithm: "RSASSA_PSS_SHA_256",
        }),
      ),
    ).rejects.toMatchObject({ name: "KMSInvalidSignatureException" });
    // Right bytes, wrong padding scheme.
    await expect(
      client.send(
        new VerifyCommand({
          KeyId: rsaKeyId,
          Message: message,
          Signature: signature,
          SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
        }),
      ),
    ).rejects.toMatchObject({ name: "KMSInvalidSignatureException" });
    const ecSignature = await sign(ecKeyId, "ECDSA_SHA_256", "RAW", message);
    await expect(
      client.send(
        new VerifyCommand({
          KeyId: ecKeyId,
          Message: Buffer.from("x"),
          Signature: ecSignature,
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      ),
    ).rejects.toMatchObject({ name: "KMSInvalidSignatureException" });
    await expect(
      client.send(
        new VerifyCommand({
          KeyId: ecKeyId,
          Message: message,
          Signature: Buffer.from("garbage"),
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      ),
    ).rejects.toMatchObject({ name: "KMSInvalidSignatureException" });
  });
});

describe("signing validation errors", () => {
  it("a digest of the wrong length is a ValidationException", async () => {
    await expect(sign(rsaKeyId, "RSASSA_PSS_SHA_256", "DIGEST", digestOf("sha384", message))).rejects.toMatchObject({
      name: "ValidationException",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(sign(ecKeyId, "ECDSA_SHA_256", "DIGEST", Buffer.alloc(31))).rejects.toMatchObject({
      name: "ValidationException",
    });
  });

  it("a RAW message over 4096 bytes is a ValidationException", async () => {
    await expect(sign(rsaKeyId, "RSASSA_PSS_SHA_256", "RAW", Buffer.alloc(4097))).rejects.toMatchObject({
      name: "ValidationException",
    });
  });

  it("an algorithm the key does not support is an InvalidKeyUsageException", async () => {
    await expect(sign(rsaKeyId, "ECDSA_SHA_256", "RAW", message)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
    });
    await expect(sign(ecKeyId, "RSASSA_PSS_SHA_256", "RAW", message)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
    });
  });

  it("an unknown algorithm name is a ValidationException", async () => {
    await expect(sign(rsaKeyId, "RSASSA_PSS_SHA_1" as SigningAlgorithmSpec, "RAW", message)).rejects.toMatchObject({
      name: "ValidationException",
    });
  });

  it("an ENCRYPT_DECRYPT key cannot sign: InvalidKeyUsageException", async () => {
    const key = await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" }));
    expect(key.KeyMetadata!.EncryptionAlgorithms).toContain("RSAES_OAEP_SHA_256");
    await expect(sign(key.KeyMetadata!.KeyId!, "RSASSA_PSS_SHA_256", "RAW", message)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
    });
  });
});

describe("DisableKey and earlier signatures", () => {
  it("signatures made before DisableKey still verify with the saved public key; GetPublicKey now fails", async () => {
    const key = await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }));
    const keyId = key.KeyMetadata!.KeyId!;
    const arn = key.KeyMetadata!.Arn!;
    const savedPublicKey = (await client.send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!;
    const signature = await sign(keyId, "RSASSA_PSS_SHA_256", "RAW", message);

    await client.send(new DisableKeyCommand({ KeyId: keyId }));

    const err = await client.send(new GetPublicKeyCommand({ KeyId: keyId })).catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: "DisabledException",
      message: `${arn} is disabled.`,
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    expect(await opensslVerify({ publicKeyDer: savedPublicKey, message, signature, pssSaltLength: 32 })).toBe(true);
  });
});
