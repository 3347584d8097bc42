/**
 * ECC_NIST_EDWARDS25519 keys in the local KMS, over HTTP through @aws-sdk/client-kms, as AWS documents
 * them: SIGN_VERIFY only, ED25519_SHA_512 with MessageType RAW, ED25519_PH_SHA_512 with DIGEST,
 * RFC 8410 SPKI from GetPublicKey. Signatures are checked with node:crypto and OpenSSL.
 */
import { execFile } from "node:child_process";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateKeyCommand, GetPublicKeyCommand, SignCommand, VerifyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatVerifierKey, openNote, parseVerifierKey, signNote } from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { spkiDerToPem } from "./openssl.js";

const run = promisify(execFile);
let kms: LocalKms;
let client: KMSClient;
let edKeyId: string;
let rsaKeyId: string;
let spki: Uint8Array;

beforeAll(async () => {
  kms = await startLocalKms();
  client = kms.client();
  const ed = await client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" }));
  edKeyId = ed.KeyMetadata!.KeyId!;
  expect(ed.KeyMetadata).toMatchObject({
    KeySpec: "ECC_NIST_EDWARDS25519",
    KeyUsage: "SIGN_VERIFY",
    SigningAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
  });
  rsaKeyId = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!
    .KeyId!;
  spki = (await client.send(new GetPublicKeyCommand({ KeyId: edKeyId }))).PublicKey!;
});

afterAll(async () => {
  client?.destroy();
  await kms?.stop();
});

const message = Buffer.from("example.com/log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
const edSign = async (data: Uint8Array) =>
  (
    await client.send(
      new SignCommand({ KeyId: edKeyId, Message: data, MessageType: "RAW", SigningAlgorithm: "ED25519_SHA_512" }),
    )
  ).Signature!;

async function opensslEd25519Verify(publicKeyDer: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), "kakunin-ed25519-"));
  try {
    await writeFile(join(dir, "pub.pem"), spkiDerToPem(publicKeyDer));
    await writeFile(join(dir, "sig.bin"), sig);
    await writeFile(join(dir, "msg"), msg);
    const { stdout } = await run(
      "openssl",
      ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg", "-sigfile", "sig.bin"],
      { cwd: dir },
    ).catch((e: { stdout?: string }) => ({ stdout: String(e.stdout ?? "") }));
    return stdout.includes("Signature Verified Successfully");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("ECC_NIST_EDWARDS25519", () => {
  it("GetPublicKey returns an RFC 8410 SPKI and the key's usage and algorithms", async () => {
    const out = await client.send(new GetPublicKeyCommand({ KeyId: edKeyId }));
    expect(out).toMatchObject({
      KeySpec: "ECC_NIST_EDWARDS25519",
      KeyUsage: "SIGN_VERIFY",
      SigningAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    });
    expect(out.PublicKey!.length).toBe(44);
    expect(Buffer.from(out.PublicKey!.subarray(0, 12)).toString("hex")).toBe("302a300506032b6570032100");
    expect(createPublicKey({ key: Buffer.from(out.PublicKey!), format: "der", type: "spki" }).asymmetricKeyType).toBe(
      "ed25519",
    );
  });

  it("ED25519_SHA_512 RAW signs the message itself (RFC 8032 pure): 64 bytes, deterministic, checked by node:crypto and OpenSSL", async () => {
    const sig = await edSign(message);
    expect(sig.length).toBe(64);
    expect(Buffer.from(await edSign(message))).toEqual(Buffer.from(sig));
    const pub = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    expect(nodeVerify(null, message, pub, sig)).toBe(true);
    expect(await opensslEd25519Verify(spki, message, sig)).toBe(true);
    expect(await opensslEd25519Verify(spki, Buffer.from("other"), sig)).toBe(false);
  });

  it("Verify accepts the signature and refuses a tampered one with KMSInvalidSignatureException", async () => {
    const sig = await edSign(message);
    const ok = await client.send(
      new VerifyCommand({
        KeyId: edKeyId,
        Message: message,
        MessageType: "RAW",
        Signature: sig,
        SigningAlgorithm: "ED25519_SHA_512",
      }),
    );
    expect(ok).toMatchObject({ SignatureValid: true, SigningAlgorithm: "ED25519_SHA_512" });
    const bad = Buffer.from(sig);
    bad[10]! ^= 1;
    await expect(
      client.send(
        new VerifyCommand({
          KeyId: edKeyId,
          Message: message,
          MessageType: "RAW",
          Signature: bad,
          SigningAlgorithm: "ED25519_SHA_512",
        }),
      ),
    ).rejects.toMatchObject({ name: "KMSInvalidSignatureException" });
    await expect(
      client.send(
        new VerifyCommand({
          KeyId: edKeyId,
          Message: message,
          MessageType: "RAW",
          Signature: bad.subarray(0, 63),
          SigningAlgorithm: "ED25519_SHA_512",
        }),
      ),
    ).rejects.toMatchObject({ name: "KMSInvalidSignatureException" });
  });

  it("message types cannot be used interchangeably; other specs' algorithms are InvalidKeyUsageException", async () => {
    const digest = new Uint8Array(64);
    const signWith = (KeyId: string, SigningAlgorithm: string, MessageType: "RAW" | "DIGEST", Message: Uint8Array) =>
      client.send(
        new SignCommand({ KeyId, Message, MessageType, SigningAlgorithm: SigningAlgorithm as "ED25519_SHA_512" }),
      );
    await expect(signWith(edKeyId, "ED25519_SHA_512", "DIGEST", digest)).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(signWith(edKeyId, "ED25519_PH_SHA_512", "RAW", message)).rejects.toMatchObject({
      name: "ValidationException",
    });
    // ED25519_PH_SHA_512 with DIGEST signs (Ed25519ph; ed25519-fidelity.test.ts checks it).
    expect((await signWith(edKeyId, "ED25519_PH_SHA_512", "DIGEST", digest)).Signature).toHaveLength(64);
    await expect(signWith(edKeyId, "ECDSA_SHA_256", "RAW", message)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
    });
    await expect(signWith(edKeyId, "RSASSA_PSS_SHA_256", "RAW", message)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
    });
    await expect(signWith(rsaKeyId, "ED25519_SHA_512", "RAW", message)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
    });
    await expect(signWith(edKeyId, "ED25519_SHA_512", "RAW", new Uint8Array(4097))).rejects.toMatchObject({
      name: "ValidationException",
    });
  });

  it("CreateKey refuses every usage but SIGN_VERIFY (and the ENCRYPT_DECRYPT default)", async () => {
    await expect(client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519" }))).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(
      client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "ENCRYPT_DECRYPT" })),
    ).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("signs a C2SP signed note that the formats library opens with the key's vkey", async () => {
    const pub = spki.subarray(12);
    const vkey = await formatVerifierKey("example.com/log", pub);
    const note = await signNote(message.toString(), "example.com/log", pub, edSign);
    const opened = await openNote(note, [await parseVerifierKey(vkey)]);
    expect(opened.text).toBe(message.toString());
    await expect(openNote(note.replace("42", "43"), [await parseVerifierKey(vkey)])).rejects.toMatchObject({
      code: "ERR_NOTE_SIGNATURE",
    });
  });
});
